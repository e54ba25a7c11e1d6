import Foundation
import LocalServices

/// Fault (Sentinel profiles): `kill -9` of the Redis master the sentinels name; they promote the
/// replica (about 2 s: `down-after-milliseconds 1000`), and the killed server starts again 2 s
/// later from its append-only file and rejoins as the new master's replica.
/// Invariant: clients follow the failover by themselves; with `REDIAL_REDIS_WAIT=1` no
/// acknowledged enqueue is lost; without it, what asynchronous replication had not carried is
/// lost, and the reconciler restores the callbacks' jobs from PostgreSQL (the checker names them).
struct FailoverRedis: Fault {
    let name = "kill -9 the Redis master (Sentinel failover)"
    var explains: [String] { Self.alertsOfAFailover }
    /// What a master's failover may raise while clients wait for the new one.
    static let alertsOfAFailover = ["ServiceDown", "QueueStalled", "OutboxBacklog", "CallbackSLA", "WorkersMissing", "ReconcilerStale",
                                    "ChannelWithoutWorkers"]

    func inject(_ cluster: ChaosCluster) async throws {
        guard cluster.sentinel != nil else { throw SetupError("a failover needs a Sentinel run (PROFILE=sentinel)") }
        guard let master = await cluster.sentinelMaster() else { throw SetupError("no sentinel names a master") }
        guard let pid = cluster.pid(file: "sentinel/redis-\(master).pid") else {
            throw SetupError("no pid for the master on \(master) in \(cluster.runDirectory)/sentinel/")
        }
        kill(pid, SIGKILL)
        while kill(pid, 0) == 0 { try await Task.sleep(for: .milliseconds(20)) }
        // A run that saw no promotion must not claim it survived one.
        guard try await eventually(timeout: .seconds(20), every: .milliseconds(100), { await cluster.sentinelMaster() != master }) else {
            throw SetupError("the sentinels promoted no replica within 20 s of killing the master on \(master)")
        }
        try await Task.sleep(for: .seconds(2))
        try cluster.make("services-sentinel")
    }
}
