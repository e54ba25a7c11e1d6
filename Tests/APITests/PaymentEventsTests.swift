import API
import CryptoPrimitives
import Domain
import Foundation
import HTTPClient
import LocalServices
import PostgresClient
import RedisClient
import Testing
import TestSupport

/// Payments through the sandbox's provider and the API's signed webhook: a referred site's first
/// top-up, its event delivered twice, credits the top-up once and the referral once on each
/// side; a forged or unsigned event credits nothing.
@Suite struct PaymentEventsTests {
    @Test func aTopUpDeliveredTwiceCreditsOnceAndItsReferralOnce() async throws {
        let databaseURL = try await TestServices.database("payments")
        let database = PostgresPool(configuration: PostgresConfiguration(url: try PostgresURL(parsing: databaseURL), poolSize: 2))
        try await Migrator.migrate(database, Schema.migrations())
        let redis = try await PrivateRedis()
        defer { redis.stop() }
        let secret = "payments-test-secret-0123456789"
        let sandboxPort = try LocalHost.freePort()
        let sandboxURL = "http://127.0.0.1:\(sandboxPort)"
        let sandbox = try RedialBinary.start(["sandbox"], environment: ["REDIAL_SANDBOX_PORT": String(sandboxPort), "REDIAL_TELEPHONY_SECRET": secret],
                                             logName: "payments-sandbox-\(sandboxPort)")
        defer { sandbox.stop(signal: SIGTERM) }
        let api = try await APIProcess(environment: ["REDIAL_DATABASE_URL": databaseURL, "REDIAL_REDIS_URL": redis.url.description,
                                                     "REDIAL_TELEPHONY_URL": sandboxURL, "REDIAL_TELEPHONY_SECRET": secret])
        defer { api.stop() }
        let client = HTTPClient()
        #expect(try await eventually(timeout: .seconds(20)) { (try? await client.send(HTTPClientRequest(url: sandboxURL + "/healthz")))?.status == 200 })

        let store = SiteStore(database: database, protection: .development)
        let referrer = try await store.create(SiteStore.NewSite(name: TestServices.uniqueName("referrer"), managers: ["+79160000001"])).site
        var new = SiteStore.NewSite(name: TestServices.uniqueName("referred"), managers: ["+79160000002"])
        new.referredBy = referrer.id
        let referred = try await store.create(new).site

        func post(_ url: String, _ json: String) async throws -> HTTPClientResponse {
            try await client.send(HTTPClientRequest(method: "POST", url: url, headers: [("Content-Type", "application/json")], body: Array(json.utf8)))
        }
        #expect(try await post(sandboxURL + "/sandbox/faults", #"{"duplicate_payment_events": true}"#).status == 200)
        let paid = try await post(sandboxURL + "/v1/payments",
                                  #"{"site_id": "\#(referred.id)", "minutes": 60, "notify_url": "\#(api.base)/v1/payments/events"}"#)
        #expect(paid.status == 201, "\(paid.text)")
        let payment = try #require(try JSONSerialization.jsonObject(with: Data(paid.body)) as? [String: Any])["payment_id"] as? String

        // Both deliveries answered; one credit.
        let ledger = BalanceLedger(database: database)
        #expect(try await eventually(timeout: .seconds(20)) {
            let delivered = try await client.send(HTTPClientRequest(url: sandboxURL + "/sandbox/payments")).text
            return delivered.components(separatedBy: payment ?? "-").count - 1 == 2
        }, "the provider delivered the event twice")
        #expect(try await ledger.entries(siteID: referred.id).map(\.kind) == [.opening, .topUp, .referral])
        #expect(try await ledger.entries(siteID: referrer.id).map(\.kind) == [.opening, .referral])
        let balance = try await database.query("SELECT balance_minutes FROM sites WHERE id = $1::uuid", [referred.id])[0].decode("balance_minutes", as: Int.self)
        let sum = try await ledger.entries(siteID: referred.id).map(\.minutes).reduce(0, +)
        #expect(balance == 60 + ledger.referralMinutes && balance == sum)

        // Forged and unsigned events credit nothing.
        let forged = #"{"payment_id": "pay_forged", "site_id": "\#(referred.id)", "minutes": 1000}"#
        let time = String(Int(Date().timeIntervalSince1970))
        let wrong = HMACSHA256.authenticate(Array("\(time).\(forged)".utf8), key: Array("not-the-secret".utf8)).hexString
        let refused = try await client.send(HTTPClientRequest(method: "POST", url: api.base + "/v1/payments/events",
                                                              headers: [("Content-Type", "application/json"), ("X-Signature", "t=\(time),v1=\(wrong)")],
                                                              body: Array(forged.utf8)))
        #expect(refused.status == 401 && refused.text.contains("bad_signature"))
        #expect(try await post(api.base + "/v1/payments/events", forged).status == 401, "unsigned")
        #expect(try await ledger.entries(siteID: referred.id).count == 3)
    }
}
