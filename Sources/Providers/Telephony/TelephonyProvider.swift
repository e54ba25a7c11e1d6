import Foundation

/// A call as the provider reports it.
public struct ProviderCall: Sendable, Equatable {
    public let callID: String
    /// True once the call is over and `outcome` is final.
    public let finished: Bool
    public let outcome: CallOutcome?
    public let durationSeconds: Int
    public let recordingURL: String?
    /// The SIP final response the carrier reported (486 busy, 480 no answer, 200 answered…), if it did.
    public let sipCode: Int?

    public init(callID: String, finished: Bool, outcome: CallOutcome?, durationSeconds: Int, recordingURL: String?, sipCode: Int? = nil) {
        self.callID = callID
        self.finished = finished
        self.outcome = outcome
        self.durationSeconds = durationSeconds
        self.recordingURL = recordingURL
        self.sipCode = sipCode
    }
}

/// Why an originate returned no call. The difference between the two cases is the difference
/// between ringing a visitor once and ringing them twice: only a definite refusal lets the flow
/// end the attempt and start another under a new idempotency key.
public enum OriginateError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The carrier answered that it did not place the call (a 4xx it means, or no connection
    /// was ever made), with the outcome the attempt ends in.
    case refused(CallOutcome, String)
    /// The call may or may not exist: a timeout or reset after the request was sent, a 5xx, a
    /// 409, an unreadable 200. Only the same idempotency key, or a look-up by it, may follow.
    case unclear(String)

    public var description: String {
        switch self {
        case .refused(let outcome, let detail): "carrier refused the call (\(outcome.rawValue)): \(detail)"
        case .unclear(let detail): "carrier's answer unclear: \(detail)"
        }
    }
}

/// A telephony carrier, the seam between the dial flow and whoever rings the phones.
/// `SandboxTelephony` (the protocol of `redial sandbox`) is the first adapter. A real carrier's
/// adapter has the same shape: `originate` maps to its "create call" request with its own
/// idempotency header (or, lacking one, a client reference it can be searched by, which
/// `call(idempotencyKey:)` then searches), its answer codes sorted into `refused` (it says it
/// placed nothing) and `unclear` (anything else); `call(id:)` to its call resource; and
/// `event(fromWebhook:signature:)` to its status callbacks, with its own signature scheme (an
/// HMAC header, a signed JWT, a basic-auth secret), read into the flow's `CallEvent`.
public protocol TelephonyProvider: Sendable {
    /// Rings the managers in order, then the visitor, and bridges them. The same idempotency key
    /// returns the same call and never rings again — the reconciliation a replayed job relies on.
    func originate(managers: [String], visitor: String, idempotencyKey: String, callbackURL: String) async throws(OriginateError) -> ProviderCall
    /// The call's current state (for polling when a webhook never comes).
    func call(id: String) async throws(ProviderError) -> ProviderCall
    /// The call placed under an idempotency key, or nil when the carrier definitely has none:
    /// how an attempt whose originate answer was unclear learns what happened.
    func call(idempotencyKey: String) async throws(ProviderError) -> ProviderCall?
    /// Checks a status webhook's signature and reads it. The rejection says why a request was
    /// refused; a valid event's `replayToken` identifies the signed request, so a copy of it can
    /// be refused too.
    func event(fromWebhook body: [UInt8], signature: String?, now: Date) throws(WebhookRejection) -> CallEvent
}
