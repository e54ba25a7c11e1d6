/// What became of one call, in the small vocabulary the retry policy speaks. Carriers report
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

    /// What a carrier reported: its outcome word when it is one of ours, else its SIP code;
    /// nil when it gave neither.
    public init?(reported outcome: String?, sipCode: Int?) {
        if let known = outcome.flatMap(CallOutcome.init(rawValue:)) {
            self = known
        } else if let sipCode {
            self.init(sipCode: sipCode)
        } else {
            return nil
        }
    }
}
