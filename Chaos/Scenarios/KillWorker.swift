import Foundation

/// Fault: `kill -9` of a worker holding jobs (mid-dial included), restarted after a second.
/// Invariant: its jobs are recovered by the others once its heartbeat expires; no visitor is
/// rung twice for one attempt (the dial's effect key reconciles the replay).
struct KillWorker: Fault {
    /// Which worker (by index); nil: one at random.
    var victim: Int?
    var name: String { victim.map { "kill -9 \(ChaosCluster.workerName($0))" } ?? "kill -9 worker" }
    var explains: [String] { ["WorkersMissing", "QueueStalled", "CallbackSLA"] }

    func inject(_ cluster: ChaosCluster) async throws {
        let victim = ChaosCluster.workerName(victim ?? Int.random(in: 0..<cluster.workerCount))
        try await cluster.hit(victim, signal: SIGKILL, restartAfter: .seconds(1))
    }
}
