import Domain
import Queue

/// `callback.check` (`{"callback_id", "attempt", "call_id"}`): asks the provider how attempt n's
/// call ended when no webhook has said so; polls again while the call goes on. A call still in
/// progress is not a failure: the poll snoozes without spending an attempt, for as long as a
/// call can last (`longestCall` after the job was made); past that, polls spend attempts, so a
/// carrier that never ends a call cannot keep a job alive for ever.
struct CallbackCheckJob: ServiceJob {
    typealias Args = CheckArgs
    let services: JobServices
    static var policyFile: [UInt8] { PackageResources.callback_check_policy_json }

    static let pollEvery: Duration = .seconds(15)
    static let longestCall: Duration = .seconds(4 * 3600)

    func work(_ payload: CheckArgs, job: Job) async throws -> JobOutcome {
        guard try await services.flow.check(callbackID: payload.callback_id.text, attempt: payload.attempt, callID: payload.call_id) != nil else {
            let age = Duration.milliseconds(job.startedAt - job.enqueuedAt)
            if age < Self.longestCall { return .snooze(Self.pollEvery) }
            return .retry(after: nil, reason: "call \(payload.call_id) still in progress after \(age)")
        }
        return .completed
    }
}
