#if canImport(Glibc)
import Glibc
import RedisClient
#endif

/// How one `redial work` process runs.
public struct WorkerConfiguration: Sendable {
    /// Unique per process: host, pid and a random suffix, so a restarted process is a new worker.
    public var id: String
    /// Handler slots per queue; the queues this worker serves.
    public var concurrency: [String: Int]
    /// The heartbeat key's TTL: a worker silent this long is presumed dead and its jobs are
    /// recovered. Default 10 s, × `REDIAL_TIME_SCALE`, never under 1 s (a shorter TTL
    /// mistakes a busy machine for a dead worker). Heartbeats go every third of it.
    public var heartbeatTTL: Duration
    /// On SIGTERM, how long in-flight jobs may run on before they are handed back. Default 25 s
    /// (inside the 30 s most supervisors wait before SIGKILL).
    public var shutdownGrace: Duration
    /// How long a completed job's record is kept. Default 24 h.
    public var completedRetention: Duration
    /// At most this many completed records are kept per queue, the newest (a busy queue would
    /// otherwise hold a day of jobs in memory). Default 10,000.
    public var completedKeep: Int
    /// At most this many dead jobs are kept per queue, the newest; older ones are deleted by the
    /// reaper (Sidekiq's default bound). Default 10,000.
    public var deadKeep: Int
    /// Dead jobs older than this are deleted by the reaper. Default 180 days.
    public var deadRetention: Duration
    /// How long one blocking fetch waits for work; bounds how fast shutdown is noticed. Default 1 s.
    public var fetchBlock: Duration
    /// A handler still running this long after its timeout cancelled it (it ignores
    /// cancellation: a call that cannot be interrupted) has its job released: failed as
    /// timed out, for another worker, its fence withdrawn so the stuck run's late ack is refused.
    /// The heartbeat alone would keep such a job held for ever. Default 10 s, × `REDIAL_TIME_SCALE`.
    public var stuckGrace: Duration
    /// A job of a type this worker's catalog does not know (a newer build's, during a rolling
    /// deploy) is handed back, snoozed by `unknownTypeRetry`, for this long after its enqueue;
    /// only then does it go dead. Default 24 h, × `REDIAL_TIME_SCALE`.
    public var unknownTypeBound: Duration
    public var unknownTypeRetry: Duration
    /// `REDIAL_TIME_SCALE`: multiplies backoff and heartbeat delays.
    public var timeScale: Double
    /// Production refuses an unsafe Redis (see `Preflight`); development warns.
    public var production: Bool
    /// Every Redis script this build runs (the engine's and the product's), whose version
    /// preflight compares with the one Redis is stamped with.
    public var scripts: [LuaScript] = QueueScripts.all.map(\.lua)
    /// The release this worker announces in its heartbeats (`scripts` filled from `scripts`).
    public var release = WorkerRelease(version: "unversioned", build: "unknown", scripts: "")

    /// `release` with the version of the scripts this worker actually runs.
    var announced: WorkerRelease {
        var release = release
        release.scripts = ScriptSet.version(of: scripts)
        return release
    }

    public static let defaultHeartbeatTTL: Duration = .seconds(10)
    public static let minimumHeartbeatTTL: Duration = .seconds(1)
    public static let defaultShutdownGrace: Duration = .seconds(25)
    public static let defaultCompletedRetention: Duration = .seconds(24 * 3600)
    public static let defaultCompletedKeep = 10_000
    public static let defaultDeadKeep = 10_000
    public static let defaultDeadRetention: Duration = .seconds(180 * 24 * 3600)
    public static let defaultFetchBlock: Duration = .seconds(1)
    public static let defaultConcurrency = 10
    public static let defaultStuckGrace: Duration = .seconds(10)
    public static let defaultUnknownTypeBound: Duration = .seconds(24 * 3600)
    public static let defaultUnknownTypeRetry: Duration = .seconds(30)

    public init(
        id: String = WorkerConfiguration.makeID(),
        concurrency: [String: Int],
        heartbeatTTL: Duration = defaultHeartbeatTTL,
        shutdownGrace: Duration = defaultShutdownGrace,
        completedRetention: Duration = defaultCompletedRetention,
        completedKeep: Int = defaultCompletedKeep,
        deadKeep: Int = defaultDeadKeep,
        deadRetention: Duration = defaultDeadRetention,
        fetchBlock: Duration = defaultFetchBlock,
        stuckGrace: Duration = defaultStuckGrace,
        unknownTypeBound: Duration = defaultUnknownTypeBound,
        unknownTypeRetry: Duration = defaultUnknownTypeRetry,
        timeScale: Double = 1,
        production: Bool = false
    ) {
        self.id = id
        self.concurrency = concurrency
        self.heartbeatTTL = heartbeatTTL
        self.shutdownGrace = shutdownGrace
        self.completedRetention = completedRetention
        self.completedKeep = completedKeep
        self.deadKeep = deadKeep
        self.deadRetention = deadRetention
        self.fetchBlock = fetchBlock
        self.stuckGrace = stuckGrace
        self.unknownTypeBound = unknownTypeBound
        self.unknownTypeRetry = unknownTypeRetry
        self.timeScale = timeScale
        self.production = production
    }

    /// The TTL in force: scaled, floored.
    public var effectiveHeartbeatTTL: Duration {
        max(Self.minimumHeartbeatTTL, heartbeatTTL.scaled(timeScale))
    }

    /// "expected X, got Y" for every field that cannot work.
    public func validate() throws(QueueError) {
        guard !concurrency.isEmpty else { throw QueueError(.invalidRequest, "a worker needs at least one queue") }
        for (queue, slots) in concurrency {
            guard Keys.isValidQueueName(queue) else {
                throw QueueError(.invalidRequest, "queue name '\(queue)': expected 1-64 of A-Z a-z 0-9 . _ -")
            }
            guard (1...10_000).contains(slots) else {
                throw QueueError(.invalidRequest, "concurrency of queue \(queue): expected 1-10000, got \(slots)")
            }
        }
        guard deadKeep >= 0, deadRetention > .zero else {
            throw QueueError(.invalidRequest, "dead jobs: expected a count ≥ 0 and a retention > 0, got \(deadKeep) and \(deadRetention)")
        }
        guard shutdownGrace >= .zero else { throw QueueError(.invalidRequest, "shutdown grace must not be negative") }
        guard fetchBlock >= .milliseconds(10) else { throw QueueError(.invalidRequest, "fetch block: expected ≥ 10 ms, got \(fetchBlock)") }
    }

    public static func makeID() -> String {
        var name = [CChar](repeating: 0, count: 256)
        gethostname(&name, name.count - 1)
        let host = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let safeHost = String(host.filter { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }.prefix(32))
        return "\(safeHost.isEmpty ? "worker" : safeHost)-\(getpid())-\(String(UInt32.random(in: 0...UInt32.max), radix: 36))"
    }
}
