import Domain
import Queue

/// `notify.sms` (a `Notification`): renders the message in the site's language and sends it once:
/// the effect key is recorded before sending and passed to the gateway as its idempotency key, so
/// a replay after a crash sends nothing twice. The message is recorded in `deliveries` and its
/// delivery report polled by `notify.status`.
struct NotifySMSJob: JobHandler {
    let services: JobServices

    func run(_ job: Job) async throws -> JobOutcome {
        guard let (notification, site) = try await services.pendingNotification(job) else { return .completed }
        let text = try services.messages.render(notification.message, language: site.language, variables: notification.variables)
        let id: String
        do {
            id = try await services.sms.send(to: notification.to, text: text, idempotencyKey: notification.effect_key)
        } catch {
            if case .invalidNumber(let detail) = error { throw PermanentJobError("SMS to \(PhoneNumber.masked(notification.to)) refused: \(detail)") }
            return .retry(after: nil, reason: "\(error)")
        }
        try await services.sent(notification, channel: "sms", providerID: id)
        // The delivery report comes later; poll for it (a crash before this line leaves the
        // row at `sent`, which is what the provider last told us).
        if let policy = services.policies["notify.status"] {
            let status = NotifyStatusJob.Payload(effect_key: notification.effect_key, sms_id: id)
            _ = try await services.jobs.enqueue(try .init(type: "notify.status", encoding: status, policy: policy, delay: .seconds(2),
                                                          dedupKey: "notify.status:\(notification.effect_key)"))
        }
        return .completed
    }
}
