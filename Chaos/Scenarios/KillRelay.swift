import Foundation

/// Fault: `kill -9` of the outbox relay (and reconciler) mid-pass, restarted after a second.
/// Invariant: a row is marked relayed only with its enqueue; a pass cut short is enqueued again
/// and deduplicated, so no callback is dialled twice or forgotten.
struct KillRelay: Fault {
    let name = "kill -9 relay"
    var explains: [String] { ["OutboxBacklog", "ReconcilerStale", "CallbackSLA"] }

    func inject(_ cluster: ChaosCluster) async throws {
        try await cluster.hit("relay", signal: SIGKILL, restartAfter: .seconds(1))
    }
}
