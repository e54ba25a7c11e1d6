import Logging
import Metrics
import RedisClient
import Synchronization

/// Runs one queue inside a worker process: one blocking fetch loop claiming a job per free
/// handler slot and handing it to one of `concurrency` lanes (`Lanes`), acks sent in batches
/// (`Acknowledger`), plus the queue's heartbeat, reaper and due-job promoter.
///
/// Crash windows. A fetch is `BLMOVE ready → worker:<wid>:landing` (waiting while ready is
/// empty) and a claim (`claimJobs.lua`) sent in one write; the claim takes what landed and more
/// from ready, marks them active and enters them in this worker's held hash in one script. If this
/// process dies at any point, its jobs sit in its own landing list or held hash and its
/// heartbeat expires: another worker's reaper returns them to ready. If only the connection
/// dies mid-claim, the process lives on: jobs it holds but is not running ("orphans") are
/// handed back before the next claim, and a landed id whose BLMOVE reply was lost is taken by
/// the next claim. Acks are fenced on the held hash by `completeJobs.lua`/`failJob.lua`.
final class QueueProcessor: Sendable {
    let keys: Keys
    let configuration: WorkerConfiguration
    let definitions: [String: JobDefinition]
    let redis: RedisPool
    let redisConfiguration: RedisConfiguration
    let logger: Logger
    let metrics: QueueMetrics
    let slots: Slots
    let lanes: Lanes
    let executor: QueueExecutor
    /// The jobs this process has claimed and not finished, and the lanes running them.
    let claimed: Mutex<Claimed>
    let state = Mutex(State())

    /// A claimed job, from its claim until its handler returns (its ack may still be on its way).
    struct Running {
        let id: String
        /// The run's token, what a hand-back presents (`claimJobs.lua`).
        let fence: Int
        let deadline: ContinuousClock.Instant
        /// The lane running it; nil while it waits for one.
        var lane: Int?
        /// Set by the timeout watcher before it cancels the lane, so the outcome says "timed out".
        var timedOut = false
        /// Set when the handler ignored that cancellation past `stuckGrace` and the job was
        /// released in Redis for another worker.
        var released = false
    }

    /// Rows indexed by ticket, so the hot path neither hashes job ids nor allocates: at most
    /// `concurrency` jobs are claimed and unfinished, since each holds a handler slot.
    struct Claimed {
        var rows: [Running?]
        var freeTickets: [Int]
        var lanes: [Task<Void, Never>?]

        init(concurrency: Int) {
            rows = Array(repeating: nil, count: concurrency)
            freeTickets = Array((0..<concurrency).reversed())
            lanes = Array(repeating: nil, count: concurrency)
        }

        var isEmpty: Bool { freeTickets.count == rows.count }
        var running: [Running] { rows.compactMap { $0 } }
    }

    struct State {
        var stopping = false
        /// Jobs whose handler slot was given back before their ack landed (at most the queue's
        /// concurrency, so acks waiting on a slow Redis cannot pile up without bound).
        var awaitingAck = 0
        /// Acks sent and not yet settled (landed, or given up at shutdown).
        var unsettled = 0
        /// Once past it, a shutdown stops retrying acks (Redis down at shutdown must not hang us).
        var giveUpAt: ContinuousClock.Instant?
    }

    init(queue: String, configuration: WorkerConfiguration, definitions: [String: JobDefinition],
         redis: RedisPool, redisConfiguration: RedisConfiguration, logger: Logger) {
        keys = Keys(queue: queue)
        self.configuration = configuration
        self.definitions = definitions
        self.redis = redis
        self.redisConfiguration = redisConfiguration
        var logger = logger
        logger[metadataKey: "job.queue"] = "\(queue)"
        self.logger = logger
        metrics = QueueMetrics(queue: queue)
        let concurrency = configuration.concurrency[queue] ?? 1
        slots = Slots(concurrency)
        lanes = Lanes(count: concurrency)
        claimed = Mutex(Claimed(concurrency: concurrency))
        executor = QueueExecutor(queue: queue)
    }

    /// How often a worker of a paused queue looks whether it was resumed.
    static let pausePoll: Duration = .milliseconds(250)

    var worker: String { configuration.id }
    var concurrency: Int { configuration.concurrency[keys.queue] ?? 1 }
    var ttl: Duration { configuration.effectiveHeartbeatTTL }
    var isStopping: Bool { state.withLock { $0.stopping } }

    /// Stops fetching; in-flight jobs get the shutdown grace period, then are handed back.
    func stop() {
        state.withLock { state in
            guard !state.stopping else { return }
            state.stopping = true
            state.giveUpAt = .now + configuration.shutdownGrace + .seconds(2)
        }
        slots.close()
    }

    func run() async {
        let heartbeat = Heartbeat(keys: keys, worker: worker, announcement: configuration.announced.announcement, ttl: ttl,
                                  redis: redis, logger: logger)
        var pause = Pause()
        while !isStopping {
            do {
                _ = try await heartbeat.beat(first: true)
                // Listed as the enqueues list their queues, so `redial stats` and the watchdog see
                // this worker (and its release) before anything is enqueued here.
                try await redis.send("SADD", Keys.queues, keys.queue)
                break
            } catch {
                logger.warning("cannot register with Redis yet: \(error)")
                await pause.wait()
            }
        }
        let reaper = Reaper(keys: keys, worker: worker, interval: ttl / 2, redis: redis, logger: logger, metrics: metrics,
                            deadKeep: configuration.deadKeep, deadRetention: configuration.deadRetention)
        let promoter = DuePromoter(keys: keys, redis: redis, logger: logger)
        let acknowledger = Acknowledger(executor: executor, configuration: redisConfiguration, keys: keys, worker: worker,
                                        retention: configuration.completedRetention, keep: configuration.completedKeep) {
            self.settle($0, $1)
        }
        for lane in 0..<concurrency { startLane(lane, acknowledger) }
        await withTaskGroup(of: Void.self) { maintenance in
            maintenance.addTask { await heartbeat.run() }
            maintenance.addTask { await reaper.run() }
            maintenance.addTask { await promoter.run() }
            maintenance.addTask { await self.watchTimeouts() }
            await withTaskExecutorPreference(executor) { await fetchAndRun() }
            maintenance.cancelAll()
        }
        do {
            try await heartbeat.retire()
        } catch {
            logger.warning("could not leave the registry: \(error); the reaper will")
        }
        await acknowledger.close()
        logger.info("stopped")
    }
}
