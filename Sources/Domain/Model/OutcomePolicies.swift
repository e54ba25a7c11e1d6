import Foundation
import Providers
import Queue

/// What to do after an attempt ended with a given outcome: retry (up to a number of attempts
/// for the callback, after a delay that doubles each attempt, with jitter) or fail for good.
/// Declared in `Jobs/callback.dial/outcomes.json`.
public struct OutcomePolicies: Sendable, Equatable {
    public struct Rule: Sendable, Equatable {
        public let retry: Bool
        /// Attempts in all (the first included) before the callback fails with this outcome.
        public let maxAttempts: Int
        /// Delay before the next attempt after attempt 1; doubled for each later attempt, capped at 1 h.
        public let delay: Duration
    }

    /// How long an attempt whose originate answer was unclear keeps trying under its own key
    /// (`unclear_answer` in the file): until `deadline`, then the carrier is asked for the call
    /// by key for up to `lookupWindow` more before the attempt is recorded as `unknown`.
    public struct UnclearAnswers: Sendable, Equatable {
        public let deadline: Duration
        public let lookupWindow: Duration

        /// The wait before the next try: half the attempt's age, between 2 s and 60 s, so a
        /// carrier that is briefly confused is asked again soon and a long outage is not hammered.
        func retryDelay(afterAge age: Duration) -> Duration { min(max(age / 2, .seconds(2)), .seconds(60)) }
    }

    public let rules: [CallOutcome: Rule]
    public let unclearAnswers: UnclearAnswers

    /// Parses the outcomes file; every non-answered outcome must have a rule.
    public init(json: [UInt8], file: String) throws(DomainError) {
        guard var object = (try? JSONSerialization.jsonObject(with: Data(json))) as? [String: Any] else {
            throw DomainError(.invalid, "\(file): expected a JSON object of outcome rules")
        }
        guard let unclear = object.removeValue(forKey: "unclear_answer") as? [String: Any],
              let deadline = unclear["deadline_ms"] as? Int, (1000...86_400_000).contains(deadline),
              let lookup = unclear["lookup_ms"] as? Int, (1000...86_400_000).contains(lookup) else {
            throw DomainError(.invalid, "\(file): field 'unclear_answer': expected {\"deadline_ms\": 1000-86400000, \"lookup_ms\": 1000-86400000}")
        }
        unclearAnswers = UnclearAnswers(deadline: .milliseconds(deadline), lookupWindow: .milliseconds(lookup))
        var rules: [CallOutcome: Rule] = [:]
        for (name, value) in object {
            guard let outcome = CallOutcome(rawValue: name), outcome != .answered else {
                throw DomainError(.invalid, "\(file): field '\(name)': not a retryable outcome (known: \(CallOutcome.allCases.filter { $0 != .answered }.map(\.rawValue).joined(separator: ", ")))")
            }
            guard let rule = value as? [String: Any], let retry = rule["retry"] as? Bool else {
                throw DomainError(.invalid, "\(file): field '\(name).retry': expected true or false")
            }
            // An unknown outcome may mean the visitor is talking right now: never a blind redial.
            if outcome == .unknown && retry {
                throw DomainError(.invalid, "\(file): field '\(name).retry': must be false (a call that may exist is never re-dialed)")
            }
            guard retry else {
                rules[outcome] = Rule(retry: false, maxAttempts: 1, delay: .zero)
                continue
            }
            guard let attempts = rule["max_attempts"] as? Int, (1...20).contains(attempts) else {
                throw DomainError(.invalid, "\(file): field '\(name).max_attempts': expected an integer 1-20")
            }
            guard let delay = rule["delay_ms"] as? Int, (1...86_400_000).contains(delay) else {
                throw DomainError(.invalid, "\(file): field '\(name).delay_ms': expected an integer 1-86400000")
            }
            rules[outcome] = Rule(retry: true, maxAttempts: attempts, delay: .milliseconds(delay))
        }
        if let missing = CallOutcome.allCases.first(where: { $0 != .answered && rules[$0] == nil }) {
            throw DomainError(.invalid, "\(file): no rule for outcome '\(missing.rawValue)'")
        }
        self.rules = rules
    }

    public enum Decision: Sendable, Equatable {
        case retry(after: Duration)
        case fail
    }

    /// After attempt `attempt` ended with `outcome` (not answered).
    public func decide(_ outcome: CallOutcome, attempt: Int) -> Decision {
        guard let rule = rules[outcome], rule.retry, attempt < rule.maxAttempts else { return .fail }
        let base = min(rule.delay * (1 << min(attempt - 1, 20)), .seconds(3600))
        // Equal jitter: half fixed, half random, so retries of many callbacks spread out.
        let half = base / 2
        return .retry(after: half + .milliseconds(Int64.random(in: 0...max(0, half.milliseconds))))
    }
}
