import Domain
import Foundation
import Logging
import Queue

/// `callback.dial` (`{"callback_id": "…", "attempt": n}`): one attempt of a callback. Before
/// the visitor's requested time, or outside the site's working hours, it snoozes until then.
/// Otherwise it places the call through the effect ledger (a replay reconciles instead of
/// ringing again) and schedules the poll that finds the result if the provider's webhook never
/// comes. An unclear carrier answer snoozes and tries the same attempt again under the same
/// key. `attempt` is the attempt the job was made for: a job that finds the callback at
/// another one is stale and does nothing (absent: whatever attempt is due, the reconciler's way).
struct CallbackDialJob: ServiceJob {
    typealias Args = DialArgs
    let services: JobServices
    static let logger = Logger(label: "redial.dial")
    static var policyFile: [UInt8] { PackageResources.callback_dial_policy_json }

    func work(_ args: DialArgs, job: Job) async throws -> JobOutcome {
        if services.dialFailureShare > 0, Double.random(in: 0..<1) < services.dialFailureShare {
            throw DeliberateFailure()
        }
        let id = args.callback_id.text
        switch try await services.flow.dial(callbackID: id, expectedAttempt: args.attempt) {
        case .nothing:
            return .completed
        case .closedUntil(let opening):
            // Not through the outbox: a replay of this job reaches this line again, and the
            // trigger's dedup keys send its messages once.
            if let context = try await services.flow.context(callbackID: id) {
                let format = DateFormatter()
                format.timeZone = context.timeZone
                format.dateFormat = "HH:mm dd.MM.yyyy"
                let opening = format.string(from: opening) + " (\(context.timeZone.identifier))"
                try await services.notify(Trigger(name: "after_hours", callbackID: id, instance: id, variables: ["opening": opening]),
                                          context: context)
            }
            return .snooze(.milliseconds(Int64(max(0, opening.timeIntervalSinceNow) * 1000)))
        case .notBefore(let time):
            return .snooze(.milliseconds(Int64(max(0, time.timeIntervalSinceNow) * 1000)))
        case .unclear(let attempt, let delay):
            Self.logger.warning("carrier's answer unclear; the same attempt will be tried again under its key",
                                    metadata: ["callback.id": .string(id), "callback.attempt": .stringConvertible(attempt)])
            return .snooze(delay)
        case .dialed, .ended:
            // What follows (the poll, a redial, the managers' message) went to the outbox with the decision.
            return .completed
        }
    }
}

/// The bad beta build's failure (`REDIAL_UNSAFE_FAIL_DIALS`), before the dial does anything.
struct DeliberateFailure: Error, CustomStringConvertible {
    var description: String { "deliberate failure (REDIAL_UNSAFE_FAIL_DIALS, a test build)" }
}
