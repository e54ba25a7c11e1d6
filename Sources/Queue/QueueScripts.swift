import RedisClient

/// One `.lua` file of `Scripts/` that works on one queue's keys. It builds its KEYS itself, from
/// the queue's `Keys` and the names its header declares, so no caller passes keys by position
/// and a header cannot drift from what the script is given.
public struct QueueScript: Sendable {
    public let lua: LuaScript
    /// The header's key names, resolved once: building a call's KEYS (enqueue, claim, ack: the
    /// hot path) compares no strings.
    private let roles: [Role]

    init(_ name: String, _ bytes: [UInt8], keys: [String]) {
        lua = LuaScript(name, bytes, keys: keys)
        roles = keys.map { key in
            guard let role = Role(rawValue: key) else { preconditionFailure("\(name).lua: no queue key is named '\(key)'") }
            return role
        }
    }

    public var script: RedisScript { lua.script }

    /// The keys of a queue a script can be given, by the names headers use.
    enum Role: String {
        case ready, delayed, dead, stats, completed, workers, paused, moving, landing, held, alive, job, dedup, cron
    }

    /// Who a key belongs to, for the names that need more than the queue.
    public struct Scope: Sendable {
        public var worker: String?
        public var job: String?
        public var dedup: String?
        public var schedule: String?

        public init(worker: String? = nil, job: String? = nil, dedup: String? = nil, schedule: String? = nil) {
            self.worker = worker
            self.job = job
            self.dedup = dedup
            self.schedule = schedule
        }
    }

    /// The script's KEYS for a queue, in the header's order.
    public func keys(_ keys: Keys, _ scope: Scope = Scope()) -> [String] {
        roles.map { role in
            func needs(_ value: String?) -> String {
                guard let value else { preconditionFailure("\(script.name): key '\(role.rawValue)' needs its owner in the scope") }
                return value
            }
            switch role {
            case .ready: return keys.ready
            case .delayed: return keys.delayed
            case .dead: return keys.dead
            case .stats: return keys.stats
            case .completed: return keys.completed
            case .workers: return keys.workers
            case .paused: return keys.paused
            case .moving: return keys.moving
            case .landing: return keys.landing(needs(scope.worker))
            case .held: return keys.held(needs(scope.worker))
            case .alive: return keys.alive(needs(scope.worker))
            case .job: return keys.job(needs(scope.job))
            case .dedup: return keys.dedup(needs(scope.dedup))
            case .cron: return keys.cron(needs(scope.schedule))
            }
        }
    }

    /// A call of the script on a queue's keys.
    public func command(_ keys: Keys, _ scope: Scope = Scope(), arguments: [any RedisArgument]) -> RedisCommand {
        lua.command(keys: self.keys(keys, scope), arguments: arguments)
    }

    /// Runs the script on a queue's keys.
    public func run(on redis: RedisPool, _ keys: Keys, _ scope: Scope = Scope(), arguments: [any RedisArgument]) async throws -> RedisValue {
        try await redis.run(script, keys: self.keys(keys, scope), arguments: arguments)
    }
}

public enum QueueScripts {
    public static let enqueueJobs = QueueScript("enqueueJobs", PackageResources.enqueueJobs_lua,
                                                keys: ["ready", "delayed", "stats"])
    public static let claimJobs = QueueScript("claimJobs", PackageResources.claimJobs_lua,
                                              keys: ["ready", "landing", "held", "stats", "dead", "paused"])
    public static let completeJobs = QueueScript("completeJobs", PackageResources.completeJobs_lua,
                                                 keys: ["held", "stats", "completed"])
    public static let failJob = QueueScript("failJob", PackageResources.failJob_lua,
                                            keys: ["held", "job", "delayed", "dead", "stats"])
    public static let promoteDue = QueueScript("promoteDue", PackageResources.promoteDue_lua,
                                               keys: ["delayed", "ready"])
    public static let reapWorker = QueueScript("reapWorker", PackageResources.reapWorker_lua,
                                               keys: ["workers", "alive", "landing", "held", "ready", "dead", "stats"])
    public static let requeueJobs = QueueScript("requeueJobs", PackageResources.requeueJobs_lua,
                                                keys: ["held", "ready"])
    public static let retryDead = QueueScript("retryDead", PackageResources.retryDead_lua,
                                              keys: ["dead", "ready", "job"])
    public static let deleteDead = QueueScript("deleteDead", PackageResources.deleteDead_lua,
                                               keys: ["dead", "job", "dedup"])
    public static let pruneDead = QueueScript("pruneDead", PackageResources.pruneDead_lua,
                                              keys: ["dead", "stats"])
    public static let beatHeartbeat = QueueScript("beatHeartbeat", PackageResources.beatHeartbeat_lua,
                                                  keys: ["alive", "workers"])
    public static let advanceSchedule = QueueScript("advanceSchedule", PackageResources.advanceSchedule_lua,
                                                    keys: ["cron"])
    public static let takeWaiting = QueueScript("takeWaiting", PackageResources.takeWaiting_lua,
                                                keys: ["ready", "delayed", "moving"])
    public static let dropMoved = QueueScript("dropMoved", PackageResources.dropMoved_lua,
                                              keys: ["moving", "stats"])

    public static let replacePayload = QueueScript("replacePayload", PackageResources.replacePayload_lua, keys: ["job"])

    public static let all = [enqueueJobs, claimJobs, completeJobs, failJob, promoteDue, reapWorker,
                             requeueJobs, retryDead, deleteDead, pruneDead, beatHeartbeat, advanceSchedule, takeWaiting, dropMoved,
                             replacePayload]
}
