import Foundation
import LocalServices
import RedisClient

/// Fault (cluster profile): `kill -9` of the Redis Cluster master serving a queue's slot; its
/// replica is promoted (about 2 s: `cluster-node-timeout 1000`) and the killed node starts again
/// 2 s later from its append-only file and rejoins as a replica.
/// Invariant: clients follow the new slot map by themselves; the other shards keep serving
/// meanwhile; with `REDIAL_REDIS_WAIT=1` no acknowledged enqueue is lost.
struct FailoverClusterMaster: Fault {
    let queue: String
    var name: String { "kill -9 the Redis Cluster master of queue \(queue)" }
    var explains: [String] { FailoverRedis.alertsOfAFailover }

    func inject(_ cluster: ChaosCluster) async throws {
        let admin = try cluster.clusterAdmin()
        let slot = HashSlot.of(queue)
        guard let master = await admin.masterPort(ofSlot: slot) else { throw SetupError("no master serves slot \(slot)") }
        guard let pid = cluster.pid(file: "cluster/redis-\(master).pid") else {
            throw SetupError("no pid for the master on \(master) in \(cluster.runDirectory)/cluster/")
        }
        kill(pid, SIGKILL)
        while kill(pid, 0) == 0 { try await Task.sleep(for: .milliseconds(20)) }
        // A run that saw no promotion must not claim it survived one.
        guard try await eventually(timeout: .seconds(20), every: .milliseconds(100), {
            await admin.masterPort(ofSlot: slot).map { $0 != master } ?? false
        }) else {
            throw SetupError("no replica was promoted within 20 s of killing the master on \(master)")
        }
        try await Task.sleep(for: .seconds(2))
        try cluster.make("services-cluster")
    }
}
