/// Fault: the link between the namespaced worker and everything else (Redis, PostgreSQL, the
/// provider) breaks for `seconds` (`Chaos/network.sh`):
/// - partition: the namespace's end of the veth link goes down; the worker comes back with its
///   TCP connections and its stale view of the jobs it held;
/// - slow: 32 kbit/s with up to 2 s of queueing on both ends (a token bucket; this kernel has
///   no netem for delay or loss).
/// Invariant: the others rescue the worker's jobs once its heartbeat expires; its late
/// acknowledgements are refused (fencing); no visitor is rung twice; all settles afterwards.
struct NetworkFault: Fault {
    enum Mode: Sendable {
        case partition, slow
    }

    let mode: Mode
    let seconds: Int
    var name: String { mode == .partition ? "partition worker (\(seconds) s)" : "slow link (\(seconds) s)" }

    func inject(_ cluster: ChaosCluster) async throws {
        try cluster.network(mode == .partition ? "partition" : "slow")
        try await Task.sleep(for: .seconds(seconds))
        try cluster.network(mode == .partition ? "heal" : "fast")
    }
}
