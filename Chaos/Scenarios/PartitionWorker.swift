/// Fault: a network partition between one worker and everything else (Redis, PostgreSQL, the
/// provider): the worker lives in a network namespace whose end of the veth link goes down for
/// `seconds`, then comes back with its TCP connections and its stale view of the jobs it held.
/// Invariant: the others rescue its jobs once its heartbeat expires; when it returns, its late
/// acknowledgements are refused (fencing) and no visitor is rung twice for one attempt.
struct PartitionWorker: Fault {
    let seconds: Int
    var name: String { "partition worker (\(seconds) s)" }

    func inject(_ cluster: ChaosCluster) async throws {
        try cluster.network("partition")
        try await Task.sleep(for: .seconds(seconds))
        try cluster.network("heal")
    }
}
