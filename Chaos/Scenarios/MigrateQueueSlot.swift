import LocalServices
import RedisClient

/// Fault (cluster profile): a queue's slot resharded to another master while jobs flow, its
/// keys moved five at a time (`RedisClusterAdmin.migrate`, what `redis-cli --cluster reshard`
/// does), so for a while the queue's keys are on both sides.
/// Invariant: `ASK`, `TRYAGAIN` and then `MOVED` are followed; nothing is lost or run twice.
struct MigrateQueueSlot: Fault {
    let queue: String
    var name: String { "reshard queue \(queue)'s slot to another master" }
    var explains: [String] { ["QueueStalled", "CallbackSLA"] }

    func inject(_ cluster: ChaosCluster) async throws {
        let admin = try cluster.clusterAdmin()
        let slot = HashSlot.of(queue)
        guard let source = await admin.masterPort(ofSlot: slot) else { throw SetupError("no master serves slot \(slot)") }
        let masters = await admin.masterPorts()
        guard let target = masters.first(where: { $0 > source }) ?? masters.first(where: { $0 != source }) else {
            throw SetupError("no other master to move slot \(slot) to")
        }
        try await admin.migrate(slot: slot, to: target)
        guard await admin.masterPort(ofSlot: slot) == target else { throw SetupError("slot \(slot) did not end on \(target)") }
    }
}
