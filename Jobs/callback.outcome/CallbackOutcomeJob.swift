import Domain
import Providers
import Queue

/// `callback.outcome` (a provider webhook's event): records the attempt's outcome and moves the
/// callback on. Repeated and out-of-order events change nothing (an attempt's outcome is set
/// once). An event for a call the dial job has not linked yet is retried shortly.
struct CallbackOutcomeJob: ServiceJob {
    typealias Args = CallOutcomeArgs
    let services: JobServices
    static var policyFile: [UInt8] { PackageResources.callback_outcome_policy_json }

    func work(_ event: CallOutcomeArgs, job: Job) async throws -> JobOutcome {
        guard let outcome = event.outcome else {
            throw PermanentJobError("event for call \(event.call_id) has neither a known outcome nor a SIP code")
        }
        guard try await services.flow.recordOutcome(
            callID: event.call_id, outcome: outcome, durationSeconds: event.duration_s ?? 0, recordingURL: event.recording_url,
            sipCode: event.sip_code) != nil else {
            return .retry(after: .seconds(2), reason: "call \(event.call_id) is not linked to an attempt yet")
        }
        return .completed
    }
}
