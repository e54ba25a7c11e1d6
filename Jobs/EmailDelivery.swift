import CryptoPrimitives
import Domain
import HTTPClient
import Queue

extension JobServices {
    /// Sends an email that is an effect (a notification, a report). SMTP has no idempotency key:
    /// a replay that finds the effect still pending sends again, and the Message-ID, derived from
    /// the effect key, lets the receiving side see the duplicate. At most
    /// `REDIAL_EMAIL_PER_RECIPIENT` go to one address per window; the rest snooze. Once sent,
    /// the effect is done and the email is a row in `deliveries`.
    func sendEmail(to address: String, subject: String, text: String, html: String, attachments: [MailMessage.Attachment] = [],
                   effectKey: String, siteID: String, message: String) async throws -> JobOutcome {
        let id = "<" + String(SHA256.hash(Array(effectKey.utf8)).hexString.prefix(32)) + "@redial>"
        var mail = MailMessage(from: mailFrom, fromName: "Redial", to: [address], subject: subject, text: text, html: html, messageID: id)
        mail.attachments = attachments
        // Counted before sending: a send that then fails still used its slot, which errs on the
        // side of fewer emails.
        if let wait = try await emailThrottle.acquire(channel: "email", recipient: address) { return .snooze(wait) }
        do {
            try await smtp.send(from: mailFrom, to: [address], message: mail.rendered())
        } catch {
            return .retry(after: nil, reason: "\(error)")
        }
        try await Deliveries(database: flow.database, protection: protection).recordSent(.init(
            effectKey: effectKey, channel: "email", siteID: siteID, message: message, recipient: address, providerID: id,
            detail: "accepted by the SMTP relay", releaseChannel: jobs.channel.rawValue))
        return .completed
    }
}
