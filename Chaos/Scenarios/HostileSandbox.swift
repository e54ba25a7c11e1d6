/// Fault: the telephony provider turns hostile for a while: an error storm (half the originates
/// answered 503), added latency, or webhooks dropped.
/// Invariant: failed originates are network failures retried with backoff; calls whose webhook
/// never comes are found by polling; nobody is rung twice.
struct HostileSandbox: Fault {
    enum Mode: String, Sendable {
        case errorStorm = "error storm"
        case latency
        case droppedWebhooks = "dropped webhooks"
    }

    let mode: Mode
    let seconds: Int
    var name: String { "sandbox \(mode.rawValue) \(seconds) s" }

    func inject(_ cluster: ChaosCluster) async throws {
        let faults = switch mode {
        case .errorStorm: #"{"error_rate": 0.5, "latency_ms": 0, "drop_webhooks": false}"#
        case .latency: #"{"error_rate": 0, "latency_ms": 300, "drop_webhooks": false}"#
        case .droppedWebhooks: #"{"error_rate": 0, "latency_ms": 0, "drop_webhooks": true}"#
        }
        try await cluster.sandboxFaults(faults)
        try await Task.sleep(for: .seconds(seconds))
        try await cluster.sandboxFaults(#"{"error_rate": 0, "latency_ms": 0, "drop_webhooks": false}"#)
    }
}
