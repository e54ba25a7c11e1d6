import CryptoPrimitives
import Foundation
import Logging
import Metrics
import PostgresClient
import Providers
import Queue

/// Alertmanager's webhook receiver for pages: on-call's phone gets an SMS through the provider
/// (never through the queue the alerts watch), every page is a row of `pages`, and a page that
/// Alertmanager repeats after `escalateAfter` goes to the secondary contact too, unless every
/// alert in it was acknowledged (`acknowledge`, `redial alerts ack`) since the incident began.
/// A resolved notification tells everyone the incident paged.
public struct Pager: Sendable {
    public struct Contacts: Sendable {
        public let primary: String?
        public let secondary: String?
        public let escalateAfter: Duration

        public init(primary: String?, secondary: String?, escalateAfter: Duration) {
            self.primary = primary
            self.secondary = secondary
            self.escalateAfter = escalateAfter
        }
    }

    let database: PostgresPool
    let sms: any SMSGateway
    let contacts: Contacts
    let logger: Logger

    public init(database: PostgresPool, sms: any SMSGateway, contacts: Contacts, logger: Logger) {
        self.database = database
        self.sms = sms
        self.contacts = contacts
        self.logger = logger
    }

    /// Alertmanager's webhook body (version 4), what the pager reads of it.
    struct Notification: Decodable {
        struct Alert: Decodable {
            let status: String
            let labels: [String: String]
            let annotations: [String: String]?
            let fingerprint: String?
        }
        let version: String
        let groupKey: String
        let status: String
        let alerts: [Alert]
    }

    /// What a notification did: the contacts paged.
    public struct Outcome: Encodable, Sendable, Equatable {
        public let paged: [String]
    }

    /// Handles one webhook body. Throws `.invalid` for a body that is not Alertmanager's, and
    /// `.unavailable` when the page could not be sent or recorded (Alertmanager retries).
    public func receive(_ body: [UInt8]) async throws(PagerError) -> Outcome {
        guard let notification = try? JSONDecoder().decode(Notification.self, from: Data(body)),
              notification.version == "4", ["firing", "resolved"].contains(notification.status), !notification.alerts.isEmpty else {
            throw .invalid("expected an Alertmanager webhook notification (version 4, status firing or resolved, alerts)")
        }
        do {
            return try await page(notification)
        } catch let error as PagerError {
            throw error
        } catch {
            throw .unavailable("\(error)")
        }
    }

    private func page(_ notification: Notification) async throws -> Outcome {
        // The incident so far: pages of this group since its last resolved one (whose id, 0 for
        // none, names the incident).
        let boundary = try await database.query(
            "SELECT coalesce(max(id), 0) AS id FROM pages WHERE group_key = $1 AND status = 'resolved'", [notification.groupKey])
        let incident: Int64 = try boundary.first?.decode("id") ?? 0
        let rows = try await database.query("""
            SELECT contact, status, extract(epoch FROM now() - sent_at)::float8 AS age FROM pages
            WHERE group_key = $1 AND id > $2 ORDER BY sent_at
            """, [notification.groupKey, incident])
        let episode = try rows.map { (contact: try $0.decode("contact", as: String.self), age: try $0.decode("age", as: Double.self)) }
        var targets: [(contact: String, phone: String)] = []
        if notification.status == "resolved" {
            for contact in Set(episode.map(\.contact)).sorted() {
                if let phone = contact == "primary" ? contacts.primary : contacts.secondary { targets.append((contact, phone)) }
            }
        } else {
            if let phone = contacts.primary { targets.append(("primary", phone)) }
            let pagedFor = episode.first.map { Duration.milliseconds(Int64($0.age * 1000)) } ?? .zero
            let escalated = episode.contains { $0.contact == "secondary" }
            if let phone = contacts.secondary, escalated || pagedFor >= contacts.escalateAfter || contacts.primary == nil {
                targets.append(("secondary", phone))
            }
        }
        if notification.status == "firing", !episode.isEmpty {
            let firing = notification.alerts.filter { $0.status == "firing" }.compactMap(\.fingerprint)
            let acked = try await database.query("""
                SELECT DISTINCT fingerprint FROM page_acks
                WHERE fingerprint IN (SELECT jsonb_array_elements_text($1::jsonb)) AND acked_at > now() - make_interval(secs => $2)
                """, [try JSONText.encode(firing), episode[0].age + 1]).map { try $0.decode("fingerprint", as: String.self) }
            if !firing.isEmpty, Set(firing).isSubset(of: acked) {
                Counter(label: "redial_pager_acknowledged_total").increment()
                logger.info("page not repeated: acknowledged (\(firing.joined(separator: ", ")))")
                return Outcome(paged: [])
            }
        }
        let text = Self.text(notification)
        // `pages.phone` is for the record only (whom to tell is read from the contacts), so it is
        // kept masked: the database holds no on-call number.
        // The page's place in its incident is part of its idempotency key: a repeat is a new SMS,
        // while a webhook Alertmanager retries before its page was recorded sends the same one.
        // (Retried after the record, it pages again: a page twice rather than none.)
        var paged: [String] = []
        for target in targets {
            let round = episode.filter { $0.contact == target.contact }.count
            let key = "page:" + SHA256.hash(Array("\(notification.groupKey)|\(incident)|\(notification.status)|\(target.contact)|\(round)".utf8)).hexString
            let id = try await sms.send(to: target.phone, text: text, idempotencyKey: key)
            try await database.query("""
                INSERT INTO pages (group_key, status, contact, phone, body, provider_id) VALUES ($1, $2, $3, $4, $5, $6)
                """, [notification.groupKey, notification.status, target.contact, PhoneMask.mask(target.phone), text, id])
            paged.append(target.contact)
            logger.notice("paged \(target.contact) on-call: \(text)")
        }
        if targets.isEmpty { logger.warning("page not sent: no on-call phone is configured (REDIAL_ONCALL_PHONE): \(text)") }
        return Outcome(paged: paged)
    }

    /// "[Redial] FIRING TrunkDown: SIP trunk edge does not answer OPTIONS (+1 more). Ack: redial alerts ack 1a2b…"
    static func text(_ notification: Notification) -> String {
        let alerts = notification.alerts.filter { $0.status == notification.status }
        let first = alerts.first ?? notification.alerts[0]
        let name = first.labels["alertname"] ?? "alert"
        var text = "[Redial] \(notification.status.uppercased()) \(name): \(first.annotations?["summary"] ?? name)"
        if alerts.count > 1 { text += " (+\(alerts.count - 1) more)" }
        if notification.status == "firing", let fingerprint = first.fingerprint { text += ". Ack: redial alerts ack \(fingerprint)" }
        return String(text.prefix(600))
    }
}

/// Why a webhook was not turned into pages; reads well in an HTTP answer.
public enum PagerError: Error, Sendable, CustomStringConvertible {
    case invalid(String)
    case unavailable(String)

    public var description: String {
        switch self {
        case .invalid(let text): "invalid notification: \(text)"
        case .unavailable(let text): "cannot page now: \(text)"
        }
    }
}
