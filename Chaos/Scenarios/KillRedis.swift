import Foundation
import LocalServices

/// Fault: `kill -9` of Redis, restarted two seconds later from its append-only file.
/// Invariant: no acknowledged enqueue is lost (`appendfsync always`); workers, relay and API
/// reconnect by themselves; heartbeats that expired meanwhile only cause fenced re-runs.
struct KillRedis: Fault {
    let name = "kill -9 Redis"
    /// ChannelWithoutWorkers: beta's worker, too, is missing until its first heartbeat after.
    var explains: [String] { ["ServiceDown", "QueueStalled", "OutboxBacklog", "CallbackSLA", "WorkersMissing", "ReconcilerStale",
                              "ChannelWithoutWorkers"] }

    func inject(_ cluster: ChaosCluster) async throws {
        // No pid file, no fault: a run that did not kill Redis must not claim it survived it.
        guard let pid = cluster.redisPID() else { throw SetupError("no Redis pid in \(cluster.runDirectory)/redis.pid") }
        kill(pid, SIGKILL)
        while kill(pid, 0) == 0 { try await Task.sleep(for: .milliseconds(20)) }
        try await Task.sleep(for: .seconds(2))
        try cluster.make("services")
    }
}
