import CryptoPrimitives
import Domain
import Foundation
import HTTPClient
import LocalServices
import PostgresClient
import Providers
import Queue
import Testing
import TestSupport

/// Data retention end to end: callbacks past their site's retention are purged with their
/// attempts, effects, outbox rows and recordings (the object too), their counts kept per day;
/// a callback inside its retention, one of a site that keeps longer, and one still waiting stay;
/// a second run changes nothing. Part of the serialized dial suite: its cluster dials.
extension DialFlowTests {
    @Test func callbacksPastTheirSitesRetentionArePurgedAndCountedOnce() async throws {
        let store = try await ObjectStore()
        defer { store.stop() }
        let bucket = "retention-" + String(UInt32.random(in: 0...UInt32.max))
        let storage = S3ObjectStorage(baseURL: store.url, bucket: bucket, region: "us-east-1", accessKey: "test-key", secretKey: "test-secret")
        try await storage.ensureBucket()
        let cluster = try await Cluster(workers: 1, settings: store.settings(bucket: bucket))
        defer { cluster.stop() }
        func site(keepingDays days: Int) async throws -> (id: String, key: String) {
            var new = SiteStore.NewSite(name: TestServices.uniqueName("retention"), managers: ["+79160000001"])
            new.balanceMinutes = 100
            new.dataRetentionDays = days
            new.limits = ["client_numbers_per_hour": 100_000, "client_numbers_per_day": 100_000]
            let (site, key) = try await SiteStore(database: database, protection: .development).create(new)
            return (site.id, key)
        }
        let short = try await site(keepingDays: 30)
        let long = try await site(keepingDays: 365)
        // Answered with a recording; busy twice then answered; refused by the carrier; and one of
        // the site that keeps a year.
        let answered = try await request(cluster, key: short.key, phone: number(0))
        let third = try await request(cluster, key: short.key, phone: number(4))
        let refused = try await request(cluster, key: short.key, phone: number(7))
        let kept = try await request(cluster, key: long.key, phone: number(0))
        try await waitTerminal([answered, third, refused, kept])
        // Every answered call's recording stored (what runs after a callback ends is done, as it
        // is long before a retention ends).
        #expect(try await eventually(timeout: .seconds(30)) {
            for id in [answered, third, kept] where try await recording(id) == nil { return false }
            // and the managers' SMS about the refused one sent.
            return try await !database.query("SELECT 1 FROM deliveries WHERE effect_key LIKE '%:' || $1 || ':%'", [refused]).isEmpty
        })
        let object = try #require(try await recording(answered)).key
        let purged = [answered, third, refused]

        // What the purge must count, as the database has it now.
        let before = try await database.query("""
            SELECT count(*)::int AS accepted, count(*) FILTER (WHERE status = 'completed')::int AS completed,
                   count(*) FILTER (WHERE status = 'failed')::int AS failed, coalesce(sum(minutes_debited), 0)::int AS minutes,
                   (SELECT count(*) FROM attempts WHERE callback_id = ANY(ARRAY[$1, $2, $3]::uuid[]))::int AS attempts,
                   (SELECT count(*) FROM attempts WHERE callback_id = ANY(ARRAY[$1, $2, $3]::uuid[]) AND outcome = 'answered')::int AS answered,
                   (SELECT count(*) FROM deliveries WHERE effect_key LIKE '%:' || $1 || ':%' OR effect_key LIKE '%:' || $2 || ':%'
                                                      OR effect_key LIKE '%:' || $3 || ':%')::int AS messages
            FROM callbacks WHERE id = ANY(ARRAY[$1, $2, $3]::uuid[])
            """, purged)[0]
        #expect(try before.decode("attempts", as: Int.self) >= 4 && before.decode("answered", as: Int.self) == 2, "busy twice then answered, and one answered")
        // Forty days old: past the short site's 30, inside the long site's 365. A callback still
        // waiting for its time, as old, is not ended and stays.
        try await database.query("UPDATE callbacks SET created_at = now() - interval '40 days' WHERE id = ANY(ARRAY[$1, $2, $3, $4]::uuid[])",
                                 purged + [kept])
        let waiting = try await database.query("""
            INSERT INTO callbacks (site_id, phone, status, call_at, created_at) VALUES ($1::uuid, $2, 'scheduled', now() + interval '1 day',
                                   now() - interval '40 days') RETURNING id::text AS id
            """, [short.id, number(9)])[0].decode("id", as: String.self)
        let day = try await database.query("SELECT (now() - interval '40 days')::date::text AS day")[0].decode("day", as: String.self)

        func run() async throws {
            let enqueued = try await RedialBinary.run(["enqueue", "--type", "data.retention"], environment: cluster.environment)
            #expect(enqueued.status == 0, "\(enqueued.output)")
            let id = try #require(enqueued.output.firstMatch(of: /[0-9A-HJKMNP-TV-Z]{26}/).map { String($0.0) }, "\(enqueued.output)")
            #expect(try await waitForJob(queue: "recordings", id: id) == "completed")
        }
        try await run()
        for id in purged {
            #expect(try await database.query("SELECT 1 FROM callbacks WHERE id = $1::uuid", [id]).isEmpty, "purged: \(id)")
        }
        let left = try await database.query("""
            SELECT (SELECT count(*) FROM attempts WHERE callback_id = ANY(ARRAY[$1, $2, $3]::uuid[]))::int AS attempts,
                   (SELECT count(*) FROM outbox WHERE callback_id = ANY(ARRAY[$1, $2, $3]::uuid[]))::int AS outbox,
                   (SELECT count(*) FROM recordings WHERE callback_id = ANY(ARRAY[$1, $2, $3]::uuid[]))::int AS recordings,
                   (SELECT count(*) FROM effects WHERE effect_key LIKE '%' || $1 || '%' OR effect_key LIKE '%' || $2 || '%'
                                                  OR effect_key LIKE '%' || $3 || '%')::int AS effects,
                   (SELECT count(*) FROM deliveries WHERE effect_key LIKE '%' || $1 || '%' OR effect_key LIKE '%' || $2 || '%'
                                                     OR effect_key LIKE '%' || $3 || '%')::int AS deliveries
            """, purged)[0]
        for table in ["attempts", "outbox", "recordings", "effects", "deliveries"] {
            #expect(try left.decode(table, as: Int.self) == 0, "\(table) of purged callbacks left")
        }
        #expect(try await storage.head(object) == nil, "the purged callback's recording left the bucket")
        #expect(try await storage.head(try #require(try await recording(kept)).key) != nil, "the kept callback's recording stays")
        #expect(try await !database.query("SELECT 1 FROM callbacks WHERE id = $1::uuid", [kept]).isEmpty, "inside its site's retention")
        #expect(try await !database.query("SELECT 1 FROM callbacks WHERE id = $1::uuid", [waiting]).isEmpty, "not ended: not purged")

        // The day's counts, exactly what was purged; a second run purges and counts nothing more.
        func counts() async throws -> [Int] {
            let rows = try await database.query("""
                SELECT accepted, completed, failed, attempts, answered, minutes_debited, messages FROM callback_daily
                WHERE site_id = $1::uuid AND day = $2::date
                """, [short.id, day])
            return try rows.first.map { row in
                try ["accepted", "completed", "failed", "attempts", "answered", "minutes_debited", "messages"].map { try row.decode($0, as: Int.self) }
            } ?? []
        }
        let expected = try ["accepted", "completed", "failed", "attempts", "answered", "minutes", "messages"].map { try before.decode($0, as: Int.self) }
        #expect(expected[6] >= 1, "the refused callback's SMS counts")
        #expect(try await counts() == expected)
        #expect(try await database.query("SELECT 1 FROM callback_daily WHERE site_id = $1::uuid", [long.id]).isEmpty)
        try await run()
        #expect(try await counts() == expected, "a second run counts nothing twice")
        try await database.query("DELETE FROM callbacks WHERE id = $1::uuid", [waiting])
    }
}
