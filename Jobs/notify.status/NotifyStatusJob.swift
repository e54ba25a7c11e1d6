import Domain
import Providers
import Queue

/// `notify.status` (`{"effect_key", "sms_id"}`): asks the gateway what became of a sent SMS and
/// records it in `deliveries`; polls again (the policy's backoff) while the gateway still says sent.
struct NotifyStatusJob: ServiceJob {
    let services: JobServices
    static var policyFile: [UInt8] { PackageResources.notify_status_policy_json }

    struct Args: JobArgs {
        static let jobType = "notify.status"
        let effect_key: String
        let sms_id: String

        var dedupKey: String { "\(Self.jobType):\(effect_key)" }
    }

    func work(_ payload: Args, job: Job) async throws -> JobOutcome {
        let status: DeliveryStatus
        do {
            status = try await services.sms.status(id: payload.sms_id)
        } catch {
            return .retry(after: nil, reason: "\(error)")
        }
        if status.state == .sent { return .retry(after: nil, reason: "SMS \(payload.sms_id) not delivered yet") }
        try await Deliveries(database: services.flow.database, protection: services.protection).update(payload.effect_key, to: status)
        return .completed
    }
}
