/// An SMS gateway. The same idempotency key sends one message, however often it is asked.
public protocol SMSGateway: Sendable {
    /// Returns the gateway's message id.
    func send(to: String, text: String, idempotencyKey: String) async throws(ProviderError) -> String
    /// What became of a message sent earlier.
    func status(id: String) async throws(ProviderError) -> DeliveryStatus
}
