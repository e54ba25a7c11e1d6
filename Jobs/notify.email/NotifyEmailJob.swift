import CryptoPrimitives
import Domain
import HTTPClient
import Queue

/// `notify.email` (a `Notification`): renders subject, text and HTML in the site's language and
/// sends the email over SMTP, once per effect key. SMTP has no idempotency key: a replay that
/// finds the effect still pending sends again, and the Message-ID, derived from the effect key,
/// lets the receiving side see the duplicate. At most `REDIAL_EMAIL_PER_RECIPIENT` emails go to
/// one address per window; the rest snooze until the window ends.
struct NotifyEmailJob: JobHandler {
    let services: JobServices

    func run(_ job: Job) async throws -> JobOutcome {
        guard let (notification, site) = try await services.pendingNotification(job) else { return .completed }
        let messages = services.messages
        func render(_ part: String?) throws -> String {
            try messages.render(notification.message, language: site.language, part: part, variables: notification.variables)
        }
        let id = "<" + String(SHA256.hash(Array(notification.effect_key.utf8)).hexString.prefix(32)) + "@redial>"
        let mail = MailMessage(from: services.mailFrom, fromName: "Redial", to: [notification.to], subject: try render("subject"),
                               text: try render(nil), html: try render("html"), messageID: id)
        // Counted before sending: a send that then fails still used its slot, which errs on the
        // side of fewer emails.
        if let wait = try await services.emailThrottle.acquire(channel: "email", recipient: notification.to) {
            return .snooze(wait)
        }
        do {
            try await services.smtp.send(from: services.mailFrom, to: [notification.to], message: mail.rendered())
        } catch {
            return .retry(after: nil, reason: "\(error)")
        }
        try await services.sent(notification, channel: "email", providerID: id, detail: "accepted by the SMTP relay")
        return .completed
    }
}
