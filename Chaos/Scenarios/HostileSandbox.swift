/// Fault: the telephony provider turns hostile for a while: an error storm (half the originates
/// answered 503), added latency, webhooks dropped, or a place-then-fail storm (half the first
/// originates place the call and then answer 504 or a cut-off 200).
/// Invariant: failed originates are network failures retried with backoff; calls whose webhook
/// never comes are found by polling; an unclear answer is retried under the same key, so a call
/// the carrier placed is never placed again and every answered call is debited once; nobody is
/// rung twice.
struct HostileSandbox: Fault {
    enum Mode: String, Sendable {
        case errorStorm = "error storm"
        case latency
        case droppedWebhooks = "dropped webhooks"
        case placeThenFail = "place-then-fail storm"
    }

    let mode: Mode
    let seconds: Int
    var name: String { "sandbox \(mode.rawValue) \(seconds) s" }
    var explains: [String] { ["ProviderDown", "TestCallFailing", "CallsNotAnswered", "DialPaused", "DeadJobsRising", "CallbackSLA", "QueueStalled"] }

    func inject(_ cluster: ChaosCluster) async throws {
        let faults = switch mode {
        case .errorStorm: #"{"error_rate": 0.5}"#
        case .latency: #"{"latency_ms": 300}"#
        case .droppedWebhooks: #"{"drop_webhooks": true}"#
        case .placeThenFail: #"{"place_then_fail": 0.5}"#
        }
        try await cluster.sandboxFaults(faults)
        try await Task.sleep(for: .seconds(seconds))
        try await cluster.sandboxFaults("{}")  // every switch back to its default: off
    }
}
