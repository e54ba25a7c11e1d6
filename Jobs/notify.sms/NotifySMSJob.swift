import Domain
import Foundation
import Queue

/// `notify.sms` (`{"site_id", "message", "to", "variables", "effect_key"}`): renders the message
/// in the site's language and sends it once: the effect key is recorded before sending and
/// passed to the gateway as its idempotency key, so a replay after a crash sends nothing twice.
struct NotifySMSJob: JobHandler {
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
            throw PermanentJobError("no site \(payload.site_id) for SMS \(payload.effect_key)")
        }
        let text = try services.messages.render(payload.message, language: site.language, variables: payload.variables)
        let id: String
        do {
            id = try await services.sms.send(to: payload.to, text: text, idempotencyKey: payload.effect_key)
        } catch {
            if case .invalidNumber(let detail) = error { throw PermanentJobError("SMS to \(payload.to) refused: \(detail)") }
            return .retry(after: nil, reason: "\(error)")
        }
        let result = String(decoding: try JSONSerialization.data(withJSONObject: ["sms_id": id]), as: UTF8.self)
        try await ledger.complete(payload.effect_key, resultJSON: result)
        return .completed
    }
}
