import Domain
import Queue

/// `notify.sms` (a `Notification`): renders the message in the site's language and sends it once:
/// the effect key is recorded before sending and passed to the gateway as its idempotency key, so
/// a replay after a crash sends nothing twice.
struct NotifySMSJob: JobHandler {
    let services: JobServices

    func run(_ job: Job) async throws -> JobOutcome {
        guard let (notification, site) = try await services.pendingNotification(job) else { return .completed }
        let text = try services.messages.render(notification.message, language: site.language, variables: notification.variables)
        let id: String
        do {
            id = try await services.sms.send(to: notification.to, text: text, idempotencyKey: notification.effect_key)
        } catch {
            if case .invalidNumber(let detail) = error { throw PermanentJobError("SMS to \(notification.to) refused: \(detail)") }
            return .retry(after: nil, reason: "\(error)")
        }
        try await services.sent(notification, result: ["sms_id": id])
        return .completed
    }
}
