import Domain
import Providers
import Queue

/// `notify.sms` (a `Notification`): renders the message in the site's language and sends it once:
/// the effect key is recorded before sending and passed to the gateway as its idempotency key, so
/// a replay after a crash sends nothing twice. The message is recorded in `deliveries` and its
/// delivery report polled by `notify.status`.
struct NotifySMSJob: ServiceJob {
    typealias Args = Notification<SMSChannel>
    let services: JobServices
    static var policyFile: [UInt8] { PackageResources.notify_sms_policy_json }

    func work(_ notification: Args, job: Job) async throws -> JobOutcome {
        guard let site = try await services.pendingSite(notification) else { return .completed }
        let content = try notification.content(services.protection)
        let text = try services.messages.render(notification.message, language: site.language, variables: content.variables)
        let id: String
        do {
            id = try await services.sms.send(to: content.to, text: text, idempotencyKey: notification.effect_key)
        } catch {
            if case .invalidNumber(let detail) = error { throw PermanentJobError("SMS to \(PhoneMask.mask(content.to)) refused: \(detail)") }
            return .retry(after: nil, reason: "\(error)")
        }
        try await services.sent(notification, to: content.to, providerID: id)
        // The delivery report comes later; poll for it (a crash before this line leaves the
        // row at `sent`, which is what the provider last told us).
        let status = NotifyStatusJob.Args(effect_key: notification.effect_key, sms_id: id)
        _ = try await services.jobs.enqueue(try .init(status, policies: services.policies, delay: .seconds(2), dedupKey: status.dedupKey))
        return .completed
    }
}
