import Foundation
import PostgresClient

/// A site's call minutes as a ledger (migration 0021): every credit and debit is an entry under
/// a key, one per key per site, so a top-up, a promo code or a referral delivered twice is
/// credited once; `sites.balance_minutes` is the entries' sum, kept by a trigger in the entry's
/// own transaction. Calls are debited by `CallbackFlow` (key `call:<callback id>`).
public struct BalanceLedger: Sendable {
    public enum Kind: String, Sendable, Codable {
        case opening, topUp = "top_up", promo, referral, call, adjustment
    }

    public struct Entry: Sendable, Equatable {
        public let kind: Kind
        public let minutes: Int
        public let key: String
        public let note: String?
        public let createdAt: String
    }

    let database: PostgresPool
    /// What a referral gives each side when the referred site's first top-up lands.
    public let referralMinutes: Int

    public init(database: PostgresPool, referralMinutes: Int = 30) {
        self.database = database
        self.referralMinutes = referralMinutes
    }

    /// A top-up of `minutes` paid under `paymentID` (the payment provider's id: the key). The
    /// site's first top-up also credits it and the site that referred it, once each. False when
    /// that payment was credited before; `notFound` when there is no such site.
    public func topUp(siteID: String, minutes: Int, paymentID: String) async throws -> Bool {
        guard (1...1_000_000).contains(minutes) else { throw DomainError(.invalid, "minutes: expected 1-1000000, got \(minutes)", field: "minutes") }
        guard !paymentID.isEmpty, paymentID.utf8.count <= 100 else { throw DomainError(.invalid, "payment id: expected 1-100 bytes", field: "payment_id") }
        return try await database.transaction { connection in
            guard UUIDText.isValid(siteID), try await !connection.query("SELECT 1 FROM sites WHERE id = $1::uuid", [siteID]).isEmpty else {
                throw DomainError(.notFound, "no site \(siteID.prefix(40))", field: "site_id")
            }
            guard try await credit(siteID, .topUp, minutes, key: "payment:\(paymentID)", note: nil, on: connection) else { return false }
            let referrer = try await connection.query("""
                SELECT referred_by::text AS referrer FROM sites
                WHERE id = $1::uuid AND referred_by IS NOT NULL
                  AND (SELECT count(*) FROM ledger WHERE site_id = $1::uuid AND kind = 'top_up') = 1
                """, [siteID]).first.map { try $0.decode("referrer", as: String.self) }
            if let referrer {
                _ = try await credit(siteID, .referral, referralMinutes, key: "referral:\(siteID)", note: "referred by \(referrer)", on: connection)
                _ = try await credit(referrer, .referral, referralMinutes, key: "referral:\(siteID)", note: "referred \(siteID)", on: connection)
            }
            return true
        }
    }

    /// What redeeming a promo code did.
    public enum Redemption: Sendable, Equatable {
        case credited(minutes: Int)
        case alreadyUsed
        case expired
        case unknown
    }

    /// Redeems `code` for the site: its minutes once per site, until it expires.
    public func redeem(siteID: String, code: String) async throws -> Redemption {
        let code = code.uppercased()
        guard UUIDText.isValid(siteID), PromoCode.isValid(code) else { return .unknown }
        return try await database.transaction { connection in
            guard let row = try await connection.query(
                "SELECT minutes, expires_at IS NOT NULL AND expires_at <= now() AS expired FROM promo_codes WHERE code = $1", [code]).first
            else { return .unknown }
            if try row.decode("expired", as: Bool.self) { return .expired }
            let minutes: Int = try row.decode("minutes")
            return try await credit(siteID, .promo, minutes, key: "promo:\(code)", note: nil, on: connection) ? .credited(minutes: minutes) : .alreadyUsed
        }
    }

    /// The site's entries, oldest first.
    public func entries(siteID: String) async throws -> [Entry] {
        guard UUIDText.isValid(siteID) else { return [] }
        return try await database.query("""
            SELECT kind, minutes, entry_key, note, created_at::text AS created_at FROM ledger WHERE site_id = $1::uuid ORDER BY id
            """, [siteID]).map { row in
            Entry(kind: Kind(rawValue: try row.decode("kind")) ?? .adjustment, minutes: try row.decode("minutes"),
                  key: try row.decode("entry_key"), note: try row.decodeIfPresent("note"), createdAt: try row.decode("created_at"))
        }
    }

    /// One entry; false when the site already has one under `key`.
    func credit(_ siteID: String, _ kind: Kind, _ minutes: Int, key: String, note: String?, on connection: PostgresConnection) async throws -> Bool {
        guard UUIDText.isValid(siteID) else { throw DomainError(.notFound, "no site \(siteID.prefix(40))", field: "site") }
        return try await !connection.query("""
            INSERT INTO ledger (site_id, kind, minutes, entry_key, note) SELECT id, $2::text, $3::int, $4::text, $5::text FROM sites WHERE id = $1::uuid
            ON CONFLICT (site_id, entry_key) DO NOTHING RETURNING id
            """, [siteID, kind.rawValue, minutes, key, note]).isEmpty
    }
}
