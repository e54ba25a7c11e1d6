/// One kind of fault the nemesis injects. Each scenario file opens with the fault it makes and
/// the invariant it puts under stress; the checker verifies every invariant after every run.
protocol Fault: Sendable {
    var name: String { get }
    /// Injects the fault and returns once it is healed (component restarted, switch turned off).
    func inject(_ cluster: ChaosCluster) async throws
    /// Alerts the fault must raise.
    var expectedAlerts: [String] { get }
    /// Alerts it may raise (its own effects: a killed Redis stalls queues); the report puts each
    /// alert that fired down to a fault that explains it, or calls it unexplained.
    var explains: [String] { get }
}

extension Fault {
    var expectedAlerts: [String] { [] }
    var explains: [String] { expectedAlerts }
}
