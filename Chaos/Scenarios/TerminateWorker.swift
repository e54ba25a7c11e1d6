import Foundation

/// Fault: SIGTERM of a worker (a deploy), restarted afterwards.
/// Invariant: it drains — in-flight jobs finish or are handed back — and exits cleanly; nothing
/// it held is lost or left held by it.
struct TerminateWorker: Fault {
    let name = "SIGTERM worker"
    var explains: [String] { ["WorkersMissing", "QueueStalled"] }

    func inject(_ cluster: ChaosCluster) async throws {
        let victim = ChaosCluster.workerName(Int.random(in: 0..<cluster.workerCount))
        try await cluster.hit(victim, signal: SIGTERM, restartAfter: .milliseconds(500))
    }
}
