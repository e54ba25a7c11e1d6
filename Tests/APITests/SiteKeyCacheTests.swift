import API
import CryptoPrimitives
import Domain
import Foundation
import LocalServices
import Logging
import PostgresClient
import Testing
import TestSupport

/// Intake's site-by-key cache: kept while it hears of site changes, dropped by the change's
/// notification (not by the lifetime: here an hour), and not kept at all while not listening.
/// On a database of its own: the test turns the notifying trigger off to see what is kept.
@Suite struct SiteKeyCacheTests {
    @Test func aChangedSiteIsDroppedWhenItCommitsAndNothingIsKeptWhileNotListening() async throws {
        let url = try await TestServices.database("site_key_cache")
        let database = PostgresPool(configuration: PostgresConfiguration(url: try PostgresURL(parsing: url), poolSize: 2))
        try await Migrator.migrate(database, Schema.migrations())
        let sites = SiteStore(database: database, protection: .development)
        var new = SiteStore.NewSite(name: TestServices.uniqueName("cached"), managers: ["+79160000001"])
        new.balanceMinutes = 100
        let (site, key) = try await sites.create(new)
        let cache = SiteKeyCache(sites: sites, logger: Logger(label: "test"), lifetime: .seconds(3600))
        let listening = Task { try await cache.run() }
        defer { listening.cancel() }
        func balance() async throws -> Int? { try await cache.find(key: key)?.balanceMinutes }
        func setBalance(_ minutes: Int, notifying: Bool) async throws {
            try await database.transaction { connection in
                if !notifying { try await connection.query("ALTER TABLE sites DISABLE TRIGGER sites_notify") }
                try await connection.query("UPDATE sites SET balance_minutes = $2 WHERE id = $1::uuid", [site.id, minutes])
                if !notifying { try await connection.query("ALTER TABLE sites ENABLE TRIGGER sites_notify") }
            }
        }

        // Once listening, a read is kept: a change nobody hears of is not seen.
        try #require(try await eventually(timeout: .seconds(60), every: .milliseconds(100)) { cache.isListening }, "the cache listens")
        #expect(try await eventually(timeout: .seconds(30)) {
            try await setBalance(90, notifying: false)
            _ = try await balance()
            try await setBalance(80, notifying: false)
            return try await balance() == 90
        }, "a site read while listening is kept")

        // A change that notifies drops it at once (the lifetime is an hour).
        try await setBalance(70, notifying: true)
        #expect(try await eventually(timeout: .seconds(5)) { try await balance() == 70 })
        _ = try await sites.rotateKey(id: site.id, grace: .zero)
        #expect(try await eventually(timeout: .seconds(5)) { try await cache.find(key: key) == nil }, "a key stopped now stops here now")
        #expect(try await cache.find(key: "sk_unknown") == nil)

        // The listening connection lost (its backend ended): what was kept is dropped, as a change
        // may have gone unheard, and nothing is kept until it listens again.
        let (_, newKey) = try await sites.create(new)
        #expect(try await cache.find(key: newKey)?.balanceMinutes == 100)
        let terminated = try await database.query("""
            SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
            WHERE datname = current_database() AND query ILIKE 'LISTEN %redial_sites%'
            """)
        #expect(try terminated.first?.decode("n", as: Int.self) == 1)
        try await database.query("ALTER TABLE sites DISABLE TRIGGER sites_notify")
        try await database.query("UPDATE sites SET balance_minutes = 50 WHERE name = $1", [new.name])
        #expect(try await eventually(timeout: .seconds(5)) { try await cache.find(key: newKey)?.balanceMinutes == 50 },
                "a change made while not listening is seen")
        try await database.query("ALTER TABLE sites ENABLE TRIGGER sites_notify")
        await database.close()
    }
}
