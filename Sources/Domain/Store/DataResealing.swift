import CryptoPrimitives
import PostgresClient

/// Brings every sealed column (`SealedColumn`) under the sealing key: values an older key sealed
/// are opened and sealed again, and values written before sealing existed are sealed (with their
/// lookup hash and last digits). `redial migrate` runs it right after migration 0017; the
/// `data.reseal` job runs it nightly and after a key rotation, after which the old key can leave
/// `REDIAL_DATA_KEYS`. Batches of `batch` rows, each its own transaction, rows locked with
/// SKIP LOCKED so intake and the dial flow never wait on it; safe to run from several processes.
/// A value under a key the ring does not hold cannot be opened: it is left as it is and counted
/// (`Report.unopenable`), so one lost key stops nothing else.
public struct DataResealing: Sendable {
    public let database: PostgresPool
    public let protection: DataProtection

    public init(database: PostgresPool, protection: DataProtection) {
        self.database = database
        self.protection = protection
    }

    /// Rows rewritten, per table.
    public struct Report: Sendable, Equatable, CustomStringConvertible {
        public var callbacks = 0
        public var sites = 0
        public var deliveries = 0
        /// Rows holding a value sealed under a key the ring does not hold (left as they are).
        public var unopenable = 0
        public var total: Int { callbacks + sites + deliveries }

        public init(callbacks: Int = 0, sites: Int = 0, deliveries: Int = 0, unopenable: Int = 0) {
            self.callbacks = callbacks
            self.sites = sites
            self.deliveries = deliveries
            self.unopenable = unopenable
        }
        public var description: String {
            "\(callbacks) callbacks, \(sites) sites, \(deliveries) deliveries"
                + (unopenable > 0 ? "; \(unopenable) rows under keys REDIAL_DATA_KEYS does not hold, left as they are" : "")
        }
    }

    public func run(batch: Int = 500) async throws -> Report {
        var report = Report()
        var n = 0
        repeat { n = try await callbacks(batch); report.callbacks += n } while n > 0
        repeat { n = try await sites(batch); report.sites += n } while n > 0
        repeat { n = try await deliveries(batch); report.deliveries += n } while n > 0
        report.unopenable = try await database.query("""
            SELECT (SELECT count(*) FROM callbacks WHERE NOT \(Self.openable("phone")) OR NOT \(Self.openable("name")))
                 + (SELECT count(*) FROM sites WHERE NOT \(Self.openable("owner_phone"))
                                                 OR EXISTS (SELECT 1 FROM unnest(managers) m WHERE NOT \(Self.openable("m"))))
                 + (SELECT count(*) FROM deliveries WHERE NOT \(Self.openable("recipient"))) AS n
            """, [keyIDs])[0].decode("n", as: Int.self)
        return report
    }

    /// SQL true when `column` should be sealed again: not under the sealing key ($1 is
    /// `v1.<key id>.`), and open-able: clear, or under a key of the ring ($3).
    private static func stale(_ column: String) -> String {
        "(left(\(column), length($1)) IS DISTINCT FROM $1 AND \(openable(column, keys: "$3")))"
    }

    /// SQL true when `column` is NULL, clear, or sealed under a key of the ring (`keys`, a text[] parameter).
    private static func openable(_ column: String, keys: String = "$1") -> String {
        "(\(column) IS NULL OR left(\(column), 3) <> 'v1.' OR split_part(\(column), '.', 2) = ANY(\(keys)::text[]))"
    }

    /// The ring's key ids, as a PostgreSQL text[] literal.
    private var keyIDs: String { "{" + protection.keys.map(\.id).joined(separator: ",") + "}" }

    private var prefix: String { "\(DataProtection.format).\(protection.sealingKeyID)." }

    private func callbacks(_ batch: Int) async throws -> Int {
        try await database.transaction { connection in
            let rows = try await connection.query("""
                SELECT id::text AS id, phone, name FROM callbacks
                WHERE (\(Self.stale("phone")) OR (name IS NOT NULL AND \(Self.stale("name"))) OR phone_lookup IS NULL)
                  AND \(Self.openable("phone", keys: "$3")) AND \(Self.openable("name", keys: "$3"))
                LIMIT $2 FOR UPDATE SKIP LOCKED
                """, [prefix, batch, keyIDs])
            for row in rows {
                let phone = try protection.open(try row.decode("phone"), .callbackPhone)
                let name = try row.decodeIfPresent("name", as: String.self).map { try protection.open($0, .callbackName) }
                try await connection.query("""
                    UPDATE callbacks SET phone = $2, name = $3, phone_lookup = $4, phone_tail = $5 WHERE id = $1::uuid
                    """, [try row.decode("id", as: String.self), try protection.seal(phone, .callbackPhone),
                          try name.map { try protection.seal($0, .callbackName) }, protection.lookup(phone), DataProtection.tail(phone)])
            }
            return rows.count
        }
    }

    private func sites(_ batch: Int) async throws -> Int {
        try await database.transaction { connection in
            let rows = try await connection.query("""
                SELECT id::text AS id, array_to_json(managers)::text AS managers, owner_phone FROM sites
                WHERE (EXISTS (SELECT 1 FROM unnest(managers) m WHERE \(Self.stale("m"))) OR (owner_phone IS NOT NULL AND \(Self.stale("owner_phone"))))
                  AND NOT EXISTS (SELECT 1 FROM unnest(managers) m WHERE NOT \(Self.openable("m", keys: "$3")))
                  AND \(Self.openable("owner_phone", keys: "$3"))
                LIMIT $2 FOR UPDATE SKIP LOCKED
                """, [prefix, batch, keyIDs])
            for row in rows {
                let managers = try JSONText.decode([String].self, try row.decode("managers"))
                    .map { try protection.seal(try protection.open($0, .siteManagers), .siteManagers) }
                let owner = try row.decodeIfPresent("owner_phone", as: String.self)
                    .map { try protection.seal(try protection.open($0, .siteOwnerPhone), .siteOwnerPhone) }
                try await connection.query("""
                    UPDATE sites SET managers = ARRAY(SELECT jsonb_array_elements_text($2::jsonb)), owner_phone = $3 WHERE id = $1::uuid
                    """, [try row.decode("id", as: String.self), try JSONText.encode(managers), owner])
            }
            return rows.count
        }
    }

    private func deliveries(_ batch: Int) async throws -> Int {
        try await database.transaction { connection in
            let rows = try await connection.query("""
                SELECT effect_key, recipient FROM deliveries WHERE \(Self.stale("recipient")) LIMIT $2 FOR UPDATE SKIP LOCKED
                """, [prefix, batch, keyIDs])
            for row in rows {
                let recipient = try protection.open(try row.decode("recipient"), .deliveryRecipient)
                try await connection.query("UPDATE deliveries SET recipient = $2 WHERE effect_key = $1",
                                           [try row.decode("effect_key", as: String.self), try protection.seal(recipient, .deliveryRecipient)])
            }
            return rows.count
        }
    }
}
