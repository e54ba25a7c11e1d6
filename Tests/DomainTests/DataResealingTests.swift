import CryptoPrimitives
import Domain
import Foundation
import PostgresClient
import Testing
import TestSupport

/// `DataResealing` on a schema of its own: rows written before sealing existed are sealed (with
/// their lookup and last digits), a rotation moves every value to the new key once, and a value
/// under a key the ring does not hold is reported and left, stopping nothing.
@Suite struct DataResealingTests {
    func ring(_ text: String) throws -> DataProtection {
        try DataProtection(ring: text, lookupKey: Array(DataProtection.developmentLookupKey.utf8))
    }

    static let k1 = "k1:" + Data(repeating: 1, count: 32).base64EncodedString()
    static let k2 = "k2:" + Data(repeating: 2, count: 32).base64EncodedString()
    static let k9 = "k9:" + Data(repeating: 9, count: 32).base64EncodedString()

    @Test func sealsOlderRowsRotatesOnceAndLeavesWhatItCannotOpen() async throws {
        let (pool, schema) = try await TestServices.postgres()
        defer { Task { await pool.close(); try? await TestServices.dropSchema(schema) } }
        let migrations = try Schema.migrations()
        // Rows as a build before migration 0017 wrote them: in clear.
        _ = try await Migrator.migrate(pool, migrations.filter { $0.version < Schema.sealedPersonalData })
        let site = try await pool.query("""
            INSERT INTO sites (name, key_hash, managers, timezone, hours, balance_minutes, owner_phone)
            VALUES ('old', 'h', ARRAY['+79160000101', '+79160000102'], 'UTC', '{}', 10, '+79160000103') RETURNING id::text AS id
            """)[0].decode("id", as: String.self)
        let callback = try await pool.query("""
            INSERT INTO callbacks (site_id, phone, name, status) VALUES ($1::uuid, '+79161112233', 'Анна', 'queued') RETURNING id::text AS id
            """, [site])[0].decode("id", as: String.self)
        try await pool.query("INSERT INTO effects (effect_key, state) VALUES ('sms:x:1:+79160000101', 'done')")
        try await pool.query("""
            INSERT INTO deliveries (effect_key, channel, site_id, message, recipient, status) VALUES ('sms:x:1:+79160000101', 'sms', $1::uuid, 'x', '+79160000101', 'sent')
            """, [site])
        _ = try await Migrator.migrate(pool, migrations)

        func stored() async throws -> (phone: String, name: String, lookup: String?, tail: String?, managers: [String], owner: String, recipient: String) {
            let row = try await pool.query("""
                SELECT c.phone, c.name, c.phone_lookup, c.phone_tail, array_to_json(s.managers)::text AS managers, s.owner_phone, d.recipient
                FROM callbacks c JOIN sites s ON s.id = c.site_id JOIN deliveries d ON d.site_id = s.id WHERE c.id = $1::uuid
                """, [callback])[0]
            return (try row.decode("phone"), try row.decode("name"), try row.decodeIfPresent("phone_lookup"), try row.decodeIfPresent("phone_tail"),
                    try JSONText.decode([String].self, try row.decode("managers")), try row.decode("owner_phone"), try row.decode("recipient"))
        }
        func opened(_ ring: DataProtection) async throws -> [String] {
            let row = try await stored()
            return try [ring.open(row.phone, .callbackPhone), ring.open(row.name, .callbackName)]
                + row.managers.map { try ring.open($0, .siteManagers) } + [ring.open(row.owner, .siteOwnerPhone), ring.open(row.recipient, .deliveryRecipient)]
        }
        let clear = ["+79161112233", "Анна", "+79160000101", "+79160000102", "+79160000103", "+79160000101"]

        let first = try ring(Self.k1)
        #expect(try await DataResealing(database: pool, protection: first).run() == .init(callbacks: 1, sites: 1, deliveries: 1))
        var row = try await stored()
        #expect(([row.phone, row.name, row.owner, row.recipient] + row.managers).allSatisfy { $0.hasPrefix("v1.k1.") })
        #expect(row.lookup == first.lookup("+79161112233") && row.tail == "2233")
        #expect(try await opened(first) == clear)

        // Rotation: the new key first, the old one still opening; once, then nothing more to do.
        let both = try ring("\(Self.k2),\(Self.k1)")
        #expect(try await DataResealing(database: pool, protection: both).run() == .init(callbacks: 1, sites: 1, deliveries: 1))
        #expect(try await DataResealing(database: pool, protection: both).run() == .init())
        row = try await stored()
        #expect(([row.phone, row.name, row.owner, row.recipient] + row.managers).allSatisfy { $0.hasPrefix("v1.k2.") })
        #expect(row.lookup == first.lookup("+79161112233"), "the lookup does not change with the data key")
        #expect(try await opened(ring(Self.k2)) == clear)

        // A value under a key the ring lacks: counted, left as it is, the rest still done.
        try await pool.query("UPDATE callbacks SET name = $2 WHERE id = $1::uuid", [callback, try ring(Self.k9).seal("Анна", field: "callbacks.name")])
        let other = try await pool.query("""
            INSERT INTO callbacks (site_id, phone, status) VALUES ($1::uuid, '+79164445566', 'completed') RETURNING id::text AS id
            """, [site])[0].decode("id", as: String.self)
        var report = try await DataResealing(database: pool, protection: both).run()
        #expect(report.callbacks == 1 && report.unopenable == 1, "\(report)")
        #expect(report.description.contains("1 rows under keys REDIAL_DATA_KEYS does not hold"))
        #expect(try await stored().name.hasPrefix("v1.k9."))
        let sealedOther: String = try await pool.query("SELECT phone FROM callbacks WHERE id = $1::uuid", [other])[0].decode("phone")
        #expect(try both.open(sealedOther, .callbackPhone) == "+79164445566")
        report = try await DataResealing(database: pool, protection: both).run()
        #expect(report.total == 0 && report.unopenable == 1)
    }
}
