/// What became of one call, in the small vocabulary the retry policy speaks. Providers report
/// SIP-like results; `init(sipCode:)` maps them the way carriers do.
public enum CallOutcome: String, Sendable, Codable, CaseIterable {
    case answered
    case busy
    case noAnswer = "no_answer"
    case rejected
    case invalidNumber = "invalid_number"
    case noFunds = "no_funds"
    case networkFailure = "network_failure"
    /// No manager picked up, so the visitor was never rung.
    case managerUnreachable = "manager_unreachable"
    /// The carrier never said whether it placed the call, and asking it by the attempt's
    /// idempotency key found no answer either. Never retried: a blind redial could ring twice.
    case unknown

    /// 486/600 busy; 408/480/487 no answer; 603 rejected; 404/484 invalid; 402 no funds;
    /// 503 (and other 5xx) network failure; 2xx answered.
    public init(sipCode: Int) {
        switch sipCode {
        case 200..<300: self = .answered
        case 486, 600: self = .busy
        case 408, 480, 487: self = .noAnswer
        case 603: self = .rejected
        case 404, 484: self = .invalidNumber
        case 402: self = .noFunds
        default: self = .networkFailure
        }
    }
}

/// A call as the provider reports it.
public struct ProviderCall: Sendable, Equatable {
    public let callID: String
    /// True once the call is over and `outcome` is final.
    public let finished: Bool
    public let outcome: CallOutcome?
    public let durationSeconds: Int
    public let recordingURL: String?

    public init(callID: String, finished: Bool, outcome: CallOutcome?, durationSeconds: Int, recordingURL: String?) {
        self.callID = callID
        self.finished = finished
        self.outcome = outcome
        self.durationSeconds = durationSeconds
        self.recordingURL = recordingURL
    }
}

/// Why an originate did not place a call.
public enum ProviderError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The provider refused the number for good (404/484): never retry.
    case invalidNumber(String)
    /// Unavailable, timed out, or answered an error: a network failure, retried with backoff.
    case unavailable(String)

    public var description: String {
        switch self {
        case .invalidNumber(let detail): "invalid number: \(detail)"
        case .unavailable(let detail): "provider unavailable: \(detail)"
        }
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

/// A telephony carrier. The sandbox is the first adapter; a real carrier is one more.
public protocol TelephonyProvider: Sendable {
    /// Rings the managers in order, then the visitor, and bridges them. The same idempotency key
    /// returns the same call and never rings again — the reconciliation a replayed job relies on.
    func originate(managers: [String], visitor: String, idempotencyKey: String, callbackURL: String) async throws(OriginateError) -> ProviderCall
    /// The call's current state (for polling when a webhook never comes).
    func call(id: String) async throws(ProviderError) -> ProviderCall
    /// The call placed under an idempotency key, or nil when the carrier definitely has none:
    /// how an attempt whose originate answer was unclear learns what happened.
    func call(idempotencyKey: String) async throws(ProviderError) -> ProviderCall?
}
