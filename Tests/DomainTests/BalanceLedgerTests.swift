import CryptoPrimitives
import Domain
import Foundation
import PostgresClient
import Testing
import TestSupport

/// Call minutes as a ledger: a promo code redeemed twice (also at once) credits once, an expired
/// or unknown one nothing; a top-up delivered twice is one entry, and a referred site's first
/// top-up credits both sites once; a site from before the ledger opens with its balance; every
/// site's balance is its entries' sum.
@Suite struct BalanceLedgerTests {
    @Test func creditsOnceAndTheBalanceIsTheSumOfTheLedger() async throws {
        let (pool, schema) = try await TestServices.postgres()
        defer { Task { await pool.close(); try? await TestServices.dropSchema(schema) } }
        let migrations = try Schema.migrations()
        // A site from before the ledger: it opens with the balance it had.
        _ = try await Migrator.migrate(pool, migrations.filter { $0.version < 21 })
        let old = try await pool.query("""
            INSERT INTO sites (name, key_hash, managers, timezone, hours, balance_minutes) VALUES ('old', 'h', ARRAY['x'], 'UTC', '{}', 17)
            RETURNING id::text AS id
            """)[0].decode("id", as: String.self)
        _ = try await Migrator.migrate(pool, migrations)
        let ledger = BalanceLedger(database: pool, referralMinutes: 25)
        #expect(try await ledger.entries(siteID: old).map(\.kind) == [.opening])

        let sites = SiteStore(database: pool, protection: .development)
        var first = SiteStore.NewSite(name: "referrer", managers: ["+79160000001"])
        first.balanceMinutes = 10
        let referrer = try await sites.create(first).site
        var second = SiteStore.NewSite(name: "referred", managers: ["+79160000002"])
        second.referredBy = referrer.id
        let referred = try await sites.create(second).site
        var bad = second
        bad.referredBy = "not-a-site"
        await #expect(throws: DomainError.self) { _ = try await sites.create(bad) }

        // Promo codes: once per site, also when redeemed twice at once; expired and unknown ones credit nothing.
        let codes = PromoCode(database: pool)
        #expect(try await codes.create("welcome-30", minutes: 30, expiresAt: nil))
        #expect(try await !codes.create("WELCOME-30", minutes: 99, expiresAt: nil), "a code exists once")
        #expect(try await codes.create("OLD-5", minutes: 5, expiresAt: Date(timeIntervalSinceNow: -60)))
        await #expect(throws: DomainError.self) { _ = try await codes.create("no", minutes: 5, expiresAt: nil) }
        async let a = ledger.redeem(siteID: referred.id, code: "WELCOME-30")
        async let b = ledger.redeem(siteID: referred.id, code: "welcome-30")
        let both = try await [a, b]
        #expect(both.filter { $0 == .credited(minutes: 30) }.count == 1 && both.contains(.alreadyUsed), "\(both)")
        #expect(try await ledger.redeem(siteID: referrer.id, code: "WELCOME-30") == .credited(minutes: 30), "another site may use it")
        #expect(try await ledger.redeem(siteID: referred.id, code: "OLD-5") == .expired)
        #expect(try await ledger.redeem(siteID: referred.id, code: "NOPE-1") == .unknown)

        // A top-up delivered twice (also at once) is one; the first one credits the referral on both sides, once.
        async let c = ledger.topUp(siteID: referred.id, minutes: 60, paymentID: "pay-1")
        async let d = ledger.topUp(siteID: referred.id, minutes: 60, paymentID: "pay-1")
        #expect(try await [c, d].filter { $0 }.count == 1)
        #expect(try await ledger.topUp(siteID: referred.id, minutes: 40, paymentID: "pay-2"))
        #expect(try await !ledger.topUp(siteID: referred.id, minutes: 40, paymentID: "pay-2"))
        await #expect(throws: DomainError.self) { _ = try await ledger.topUp(siteID: referred.id, minutes: 0, paymentID: "pay-3") }
        let referredEntries = try await ledger.entries(siteID: referred.id)
        #expect(referredEntries.map(\.kind) == [.opening, .promo, .topUp, .referral, .topUp], "\(referredEntries)")
        #expect(try await ledger.entries(siteID: referrer.id).map(\.kind) == [.opening, .promo, .referral])

        for (site, expected) in [(old, 17), (referrer.id, 10 + 30 + 25), (referred.id, 30 + 60 + 25 + 40)] {
            let balance = try await pool.query("SELECT balance_minutes FROM sites WHERE id = $1::uuid", [site])[0].decode("balance_minutes", as: Int.self)
            let sum = try await ledger.entries(siteID: site).map(\.minutes).reduce(0, +)
            #expect(balance == expected && sum == balance, "site \(site): balance \(balance), ledger \(sum), expected \(expected)")
        }
    }
}
