/// One kind of fault the nemesis injects. Each scenario file opens with the fault it makes and
/// the invariant it puts under stress; the checker verifies every invariant after every run.
protocol Fault: Sendable {
    var name: String { get }
    /// Injects the fault and returns once it is healed (component restarted, switch turned off).
    func inject(_ cluster: ChaosCluster) async throws
}
