/// How the engine treats one job type: declared once per type in `Jobs/` (its policy file).
public struct JobPolicy: Sendable, Hashable {
    public enum Priority: String, Sendable, Hashable, CaseIterable {
        /// Front of the line: taken before every normal job already waiting.
        case high
        /// Back of the line, first in first out.
        case normal
    }

    /// The queue it runs on.
    public var queue: String
    /// Attempts in all, the first included; out of attempts → dead. Default 5.
    public var maxAttempts: Int
    /// Delay before retry n: a random value in [0, min(cap, base · 2^(n-1))] ("full jitter":
    /// retries of many jobs that failed together spread out instead of returning together).
    public var backoffBase: Duration
    public var backoffCap: Duration
    /// An attempt running longer is cancelled and counted as failed.
    public var timeout: Duration
    /// A second enqueue with the same dedup key inside this window returns the first job's id.
    public var dedupWindow: Duration?
    public var priority: Priority
    /// Replicas its enqueue must reach before it counts (`WAIT`), at least; the Redis
    /// configuration's `replicas` applies to every type. Default 0.
    public var replicas = 0

    public static let defaultMaxAttempts = 5
    public static let defaultBackoffBase: Duration = .seconds(1)
    public static let defaultBackoffCap: Duration = .seconds(300)
    public static let defaultTimeout: Duration = .seconds(60)

    public init(
        queue: String = "default",
        maxAttempts: Int = defaultMaxAttempts,
        backoffBase: Duration = defaultBackoffBase,
        backoffCap: Duration = defaultBackoffCap,
        timeout: Duration = defaultTimeout,
        dedupWindow: Duration? = nil,
        priority: Priority = .normal
    ) {
        self.queue = queue
        self.maxAttempts = maxAttempts
        self.backoffBase = backoffBase
        self.backoffCap = backoffCap
        self.timeout = timeout
        self.dedupWindow = dedupWindow
        self.priority = priority
    }

    /// The delay before the attempt after `attempt` failed, with full jitter.
    public func backoff(afterAttempt attempt: Int) -> Duration {
        let exponent = min(max(attempt - 1, 0), 40)
        let ceiling = min(backoffCap, backoffBase * (1 << exponent))
        let ceilingMs = max(0, ceiling.milliseconds)
        return .milliseconds(Int64.random(in: 0...ceilingMs))
    }
}

extension Duration {
    /// Whole milliseconds (what Redis and the policy files count in).
    public var milliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }

    /// Fractional seconds (what Prometheus and PostgreSQL intervals count in).
    public var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }

    /// Multiplied by `REDIAL_TIME_SCALE`.
    func scaled(_ factor: Double) -> Duration {
        factor == 1 ? self : self * factor
    }
}
