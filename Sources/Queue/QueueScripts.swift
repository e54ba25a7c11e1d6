import RedisClient

/// One `.lua` file of `Scripts/` and the names of its KEYS, in order. A test checks each header's
/// `KEYS[i] name` lines against `keys` here, so the two cannot drift apart.
public struct QueueScript: Sendable {
    public let script: RedisScript
    public let keys: [String]

    init(_ name: String, _ bytes: [UInt8], keys: [String]) {
        script = RedisScript(name: name, source: String(decoding: bytes, as: UTF8.self))
        self.keys = keys
    }
}

public enum QueueScripts {
    public static let enqueueJobs = QueueScript("enqueueJobs", PackageResources.enqueueJobs_lua,
                                                keys: ["ready", "delayed", "stats"])
    public static let claimJobs = QueueScript("claimJobs", PackageResources.claimJobs_lua,
                                              keys: ["ready", "landing", "held", "stats", "dead"])
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
                                                    keys: ["state"])

    public static let all = [enqueueJobs, claimJobs, completeJobs, failJob, promoteDue, reapWorker,
                             requeueJobs, retryDead, deleteDead, pruneDead, beatHeartbeat, advanceSchedule]
}
