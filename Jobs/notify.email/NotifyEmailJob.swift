import CryptoPrimitives
import Domain
import Foundation
import HTTPClient
import Queue

/// `notify.email` (`{"site_id", "message", "to", "variables", "effect_key"}`): renders subject,
/// text and HTML in the site's language and sends the email over SMTP, once per effect key.
/// SMTP has no idempotency key: a replay that finds the effect still pending sends again, and
/// the Message-ID, derived from the effect key, lets the receiving side see the duplicate.
struct NotifyEmailJob: JobHandler {
    let services: JobServices

    struct Payload: Decodable {
        let site_id: String
        let message: String
        let to: String
        let variables: [String: String]
        let effect_key: String
    }

    func run(_ job: Job) async throws -> JobOutcome {
        let payload = try job.decode(Payload.self)
        let ledger = EffectLedger(database: services.flow.database)
        if case .done = try await ledger.begin(payload.effect_key) { return .completed }
        guard let site = try await SiteStore(database: services.flow.database).find(id: payload.site_id) else {
            throw PermanentJobError("no site \(payload.site_id) for email \(payload.effect_key)")
        }
        let messages = services.messages
        let id = "<" + String(SHA256.hash(Array(payload.effect_key.utf8)).hexString.prefix(32)) + "@redial>"
        let mail = MailMessage(
            from: services.mailFrom, fromName: "Redial", to: [payload.to],
            subject: try messages.render(payload.message, language: site.language, part: "subject", variables: payload.variables),
            text: try messages.render(payload.message, language: site.language, variables: payload.variables),
            html: try messages.render(payload.message, language: site.language, part: "html", variables: payload.variables),
            messageID: id)
        do {
            try await services.smtp.send(from: services.mailFrom, to: [payload.to], message: mail.rendered())
        } catch {
            return .retry(after: nil, reason: "\(error)")
        }
        try await ledger.complete(payload.effect_key, resultJSON: #"{"message_id": "\#(id)"}"#)
        return .completed
    }
}
