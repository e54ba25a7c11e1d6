/// What a provider says became of a message.
public struct DeliveryStatus: Sendable, Equatable {
    public enum State: String, Sendable {
        /// Accepted by the gateway or the SMTP relay; not (yet) known to have arrived.
        case sent, delivered, undelivered
    }

    public let state: State
    public let detail: String?

    public init(_ state: State, detail: String? = nil) {
        self.state = state
        self.detail = detail
    }
}
