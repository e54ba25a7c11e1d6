/// Every Redis key the engine uses, built in this one place. A queue's keys share the hash tag
/// `{<queue>}`, so each script's keys live in one Cluster slot.
public struct Keys: Sendable, Hashable {
    public let queue: String
    /// `redial:{<queue>}:`
    public let prefix: String

    public init(queue: String) {
        self.queue = queue
        prefix = "redial:{\(queue)}:"
    }

    public var ready: String { prefix + "ready" }
    public var delayed: String { prefix + "delayed" }
    public var dead: String { prefix + "dead" }
    public var stats: String { prefix + "stats" }
    /// Kept completed records, newest first (list of "<finished at ms>:<id>").
    public var completed: String { prefix + "completed" }
    /// Registry of workers (zset, score = last heartbeat ms).
    public var workers: String { prefix + "workers" }
    public var reaperLock: String { prefix + "reaper" }
    /// Present while the queue is paused (its value: why); workers claim nothing meanwhile.
    public var paused: String { prefix + "paused" }
    /// Jobs taken by a move to another queue and not yet deleted here (list; `takeWaiting`).
    public var moving: String { prefix + "moving" }
    /// Prefix of job hashes, passed to scripts that reach jobs by id.
    public var jobPrefix: String { prefix + "job:" }

    public func job(_ id: String) -> String { jobPrefix + id }
    /// Ids a worker moved out of ready with BLMOVE and has not claimed yet (list).
    public func landing(_ worker: String) -> String { prefix + "worker:\(worker):landing" }
    /// The jobs a worker runs: id → attempt (hash). An entry exists exactly while the worker
    /// holds the job at that attempt; acks are fenced on it.
    public func held(_ worker: String) -> String { prefix + "worker:\(worker):held" }
    public func alive(_ worker: String) -> String { prefix + "worker:\(worker):alive" }
    public func dedup(_ key: String) -> String { prefix + "dedup:" + key }
    /// A periodic schedule's progress: the last tick enqueued (ms), only moved forward.
    public func cron(_ schedule: String) -> String { prefix + "cron:" + schedule }

    /// Set of queue names ever enqueued to; for `redial stats` and operators. Not hash-tagged:
    /// no script touches it together with a queue's keys.
    public static let queues = "redial:queues"
    /// The Redis layout version a cluster's data is in (see `Preflight`).
    public static let layoutVersion = "redial:layout:version"
    /// The layout this build reads and writes: the key names, the job hash's fields and the
    /// scripts' return shapes. Raised only by a change an older build could not run beside;
    /// a change of scripts alone is not one (two builds' scripts coexist, each by its own SHA).
    public static let layout = 1

    /// Queue names become key parts: keep them to a safe alphabet.
    /// 1-64 of A-Z a-z 0-9 . _ -, and a release channel's queue: the same with `@beta`.
    public static func isValidQueueName(_ name: String) -> Bool {
        let base = name.hasSuffix(WorkerRelease.Channel.beta.suffix) ? String(name.dropLast(WorkerRelease.Channel.beta.suffix.count)) : name
        return (1...64).contains(base.count) && base.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }
    }
}
