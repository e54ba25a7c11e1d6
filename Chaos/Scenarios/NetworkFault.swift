/// Fault: the link between the namespaced worker and everything else (Redis, PostgreSQL, the
/// provider) breaks for `seconds` (`Chaos/network.sh`):
/// - partition: the namespace's end of the veth link goes down; the worker comes back with its
///   TCP connections and its stale view of the jobs it held;
/// - slow: 32 kbit/s with up to 2 s of queueing on both ends (a token bucket; this kernel has
///   no netem for delay or loss);
/// - PostgreSQL cut off: only the worker's route to PostgreSQL is blackholed; Redis stays
///   reachable, so the worker keeps fetching jobs it cannot finish: they fail and are retried,
///   the worker neither crashes nor hangs, and every callback settles once the route is back.
/// Invariant: the others rescue the worker's jobs once its heartbeat expires; its late
/// acknowledgements are refused (fencing); no visitor is rung twice; all settles afterwards.
struct NetworkFault: Fault {
    enum Mode: Sendable {
        case partition, slow, postgresCut
    }

    let mode: Mode
    let seconds: Int
    var explains: [String] { ["WorkersMissing", "QueueStalled", "CallbackSLA", "ServiceDown"] }
    var name: String {
        switch mode {
        case .partition: "partition worker (\(seconds) s)"
        case .slow: "slow link (\(seconds) s)"
        case .postgresCut: "PostgreSQL cut off from worker (\(seconds) s)"
        }
    }

    func inject(_ cluster: ChaosCluster) async throws {
        let (breaking, healing) = switch mode {
        case .partition: ("partition", "heal")
        case .slow: ("slow", "fast")
        case .postgresCut: ("cut-postgres", "mend-postgres")
        }
        try cluster.network(breaking)
        try await Task.sleep(for: .seconds(seconds))
        try cluster.network(healing)
    }
}
