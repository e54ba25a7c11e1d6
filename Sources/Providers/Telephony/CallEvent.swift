/// A carrier's status webhook, checked and read: the call as the event reports it (an event
/// with an outcome counts as the call's end) under the event's own id.
public struct CallEvent: Sendable, Equatable {
    /// The carrier's id of this event: its retries of one event share it.
    public let eventID: String
    public let call: ProviderCall
    /// Identifies the signed request (its MAC), so a replayed copy can be refused.
    public let replayToken: String

    public init(eventID: String, call: ProviderCall, replayToken: String) {
        self.eventID = eventID
        self.call = call
        self.replayToken = replayToken
    }
}

/// Why a webhook request was refused; each reads well in an HTTP answer (`code`: `message`).
public enum WebhookRejection: Error, Sendable, Equatable, CustomStringConvertible {
    case unsigned(String)
    case badSignature(String)
    case staleSignature(String)
    case malformedEvent(String)

    /// The machine-readable code the API answers with.
    public var code: String {
        switch self {
        case .unsigned: "unsigned"
        case .badSignature: "bad_signature"
        case .staleSignature: "stale_signature"
        case .malformedEvent: "malformed_event"
        }
    }

    public var message: String {
        switch self {
        case .unsigned(let text), .badSignature(let text), .staleSignature(let text), .malformedEvent(let text): text
        }
    }

    public var description: String { "\(code): \(message)" }
}
