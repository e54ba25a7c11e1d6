/// Fault: the link between one worker and the services shrinks to 32 kbit/s with up to 2 s of
/// queueing (a token bucket on both ends; this kernel has no netem for delay or loss), for
/// `seconds`. Invariant: a worker too slow to renew its heartbeat is presumed dead and its jobs
/// are rescued, yet it cannot complete them twice; everything settles when the link recovers.
struct SlowLink: Fault {
    let seconds: Int
    var name: String { "slow link (\(seconds) s)" }

    func inject(_ cluster: ChaosCluster) async throws {
        try cluster.network("slow")
        try await Task.sleep(for: .seconds(seconds))
        try cluster.network("fast")
    }
}
