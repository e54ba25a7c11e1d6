import CryptoPrimitives
import Foundation
import PostgresClient
import Queue

/// Callbacks in PostgreSQL. Intake writes the callback and its outbox row in one transaction:
/// once `create` returns, the callback will be dialled even if Redis is down right now. The
/// visitor's number and name are sealed (`SealedColumn`); the number is found by its lookup hash.
public struct CallbackStore: Sendable {
    public let database: PostgresPool
    public let protection: DataProtection

    /// The share of production sites' new callbacks sent to the beta channel while a beta
    /// release soaks (`REDIAL_BETA_SHARE`).
    public let betaShare: Double

    public init(database: PostgresPool, protection: DataProtection, betaShare: Double = 0) {
        self.database = database
        self.protection = protection
        self.betaShare = betaShare
    }

    public struct NewCallback: Sendable {
        public var phone: PhoneNumber
        public var name: String?
        public var pageURL: String?
        public var callAt: Date?
        public var idempotencyKey: String?
        public var clientAddress: String?

        public init(phone: PhoneNumber, name: String? = nil, pageURL: String? = nil, callAt: Date? = nil,
                    idempotencyKey: String? = nil, clientAddress: String? = nil) {
            self.phone = phone
            self.name = name
            self.pageURL = pageURL
            self.callAt = callAt
            self.idempotencyKey = idempotencyKey
            self.clientAddress = clientAddress
        }
    }

    public enum Created: Sendable, Equatable {
        /// A new callback; its `callback.dial` job is in the outbox.
        case created(id: String, status: CallbackStatus)
        /// The same Idempotency-Key, or the same phone while its callback is active: that one.
        case existing(id: String, status: CallbackStatus)
    }

    /// The callback this request would repeat (same Idempotency-Key, or same phone while
    /// active), if there is one. Checked before limits, so a replay is never rate-limited.
    /// On every request's path: $1 site, $2 Idempotency-Key, $3 the number's lookup (an index
    /// serves each side of the OR: `HotPathIndexTests`).
    public static let existingSQL = """
        SELECT id::text AS id, status FROM callbacks
        WHERE site_id = $1::uuid AND ((idempotency_key IS NOT NULL AND idempotency_key = $2)
           OR (phone_lookup = $3 AND status IN ('queued', 'scheduled', 'dialing', 'retry_wait')))
        ORDER BY (idempotency_key IS NOT DISTINCT FROM $2) DESC LIMIT 1
        """

    public func existing(siteID: String, phone: PhoneNumber, idempotencyKey: String?) async throws -> Created? {
        let rows = try await database.query(Self.existingSQL, [siteID, idempotencyKey, protection.lookup(phone.e164)])
        return try rows.first.map { .existing(id: try $0.decode("id"), status: CallbackStatus(rawValue: try $0.decode("status")) ?? .queued) }
    }

    /// A new callback, its first dial job in the outbox and named as its job, in one statement
    /// (one round trip, atomic without BEGIN/COMMIT): the id is made here so the job's key is
    /// known up front. $1 id, $2 site, $3 sealed phone, $4 sealed name, $5 page, $6 call_at,
    /// $7 status, $8 Idempotency-Key, $9 client, $10 beta share, $11 lookup, $12 tail, $13 job
    /// key, $14 job type, $15 payload, $16 run_at.
    public static let createSQL = """
        WITH callback AS (
            INSERT INTO callbacks (id, site_id, phone, name, page_url, call_at, status, idempotency_key, client_address, channel,
                                   phone_lookup, phone_tail, job_key)
            VALUES ($1::uuid, $2::uuid, $3, $4, $5, $6::timestamptz, $7, $8, $9,
                    CASE WHEN (SELECT channel FROM sites WHERE id = $2::uuid) = 'beta'
                              OR (random() < $10 AND EXISTS (SELECT 1 FROM releases WHERE state = 'soaking'))
                         THEN 'beta' ELSE 'production' END, $11, $12, $13)
            RETURNING id
        )
        INSERT INTO outbox (callback_id, job_type, payload, run_at, dedup_key)
        SELECT id, $14, $15::jsonb, $16::timestamptz, $13 FROM callback
        """

    public func create(siteID: String, _ new: NewCallback, now: Date = Date()) async throws -> Created {
        let scheduled = new.callAt.map { $0 > now.addingTimeInterval(1) } ?? false
        let status: CallbackStatus = scheduled ? .scheduled : .queued
        let id = UUID().uuidString.lowercased()
        do {
            try await database.query(Self.createSQL, [
                id, siteID, try protection.seal(new.phone.e164, .callbackPhone), try new.name.map { try protection.seal($0, .callbackName) },
                new.pageURL, new.callAt.map(Timestamp.text), status.rawValue, new.idempotencyKey, new.clientAddress, betaShare,
                protection.lookup(new.phone.e164), DataProtection.tail(new.phone.e164), DialArgs.dedupKey(id, attempt: 1),
                DialArgs.jobType, try Job.payload(DialArgs(callbackID: try CallbackID(id), attempt: 1)),
                scheduled ? new.callAt.map(Timestamp.text) : nil,
            ])
            return .created(id: id, status: status)
        } catch let error as PostgresError where error.code == .uniqueViolation {
            // A concurrent request for the same key or phone won the race: answer with its callback.
            if let existing = try await existing(siteID: siteID, phone: new.phone, idempotencyKey: new.idempotencyKey) {
                return existing
            }
            throw error
        }
    }

    public func find(id: String, siteID: String) async throws -> (Callback, [Attempt])? {
        guard UUIDText.isValid(id) else { return nil }
        let rows = try await database.query("""
            SELECT id::text AS id, site_id::text AS site_id, phone, name, page_url, \(Timestamp.select("call_at")),
                   status, reason, \(Timestamp.select("created_at"))
            FROM callbacks WHERE id = $1::uuid AND site_id = $2::uuid
            """, [id, siteID])
        guard let row = rows.first else { return nil }
        let callback = Callback(
            id: try row.decode("id"), siteID: try row.decode("site_id"), phone: try protection.open(try row.decode("phone"), .callbackPhone),
            name: try row.decodeIfPresent("name", as: String.self).map { try protection.open($0, .callbackName) }, pageURL: try row.decodeIfPresent("page_url"),
            callAt: try row.decodeIfPresent("call_at", as: Double.self).map(Date.init(timeIntervalSince1970:)),
            status: CallbackStatus(rawValue: try row.decode("status")) ?? .queued, reason: try row.decodeIfPresent("reason"),
            createdAt: Date(timeIntervalSince1970: try row.decode("created_at", as: Double.self)))
        let attempts = try await database.query("""
            SELECT n, outcome, \(Timestamp.select("started_at")), \(Timestamp.select("ended_at"))
            FROM attempts WHERE callback_id = $1::uuid ORDER BY n
            """, [id]).map { row in
            Attempt(n: try row.decode("n"), outcome: try row.decodeIfPresent("outcome"),
                    startedAt: Date(timeIntervalSince1970: try row.decode("started_at", as: Double.self)),
                    endedAt: try row.decodeIfPresent("ended_at", as: Double.self).map(Date.init(timeIntervalSince1970:)))
        }
        return (callback, attempts)
    }
}
