import CryptoPrimitives
import Domain
import Foundation
import LocalServices
import PostgresClient
import Queue
import RedisClient
import Testing
import TestSupport

/// Triggers end to end through the real SMTP server (aiosmtpd) and the sandbox's SMS log: the
/// low-balance warning once per threshold crossing, delivery reports recorded, a replayed
/// message job sending nothing, and per-recipient email throttling. Part of the serialized dial
/// suite: its cluster must be the only one dialling.
extension DialFlowTests {
    func deliveries(site siteID: String) async throws -> [(message: String, channel: String, recipient: String, status: String)] {
        try await database.query("""
            SELECT message, channel, recipient, status FROM deliveries WHERE site_id = $1::uuid ORDER BY effect_key
            """, [siteID]).map {
            (try $0.decode("message"), try $0.decode("channel"), try DataProtection.development.open(try $0.decode("recipient"), .deliveryRecipient),
             try $0.decode("status"))
        }
    }

    @Test func lowBalanceWarnsTheOwnerOncePerCrossingAndDeliveryIsRecorded() async throws {
        let mail = try await MailSink()
        defer { mail.stop() }
        let cluster = try await Cluster(workers: 2, smtpURL: mail.url)
        defer { cluster.stop() }
        var new = SiteStore.NewSite(name: TestServices.uniqueName("balance"), managers: ["+79160000001"])
        new.balanceMinutes = 12
        new.lowBalanceThresholds = [11, 10, 5]
        new.limits = ["client_numbers_per_hour": 100_000, "client_numbers_per_day": 100_000]  // as `site()`: limits have tests of their own
        new.ownerPhone = "+79160000772"  // ends in 2: the sandbox reports its SMS undelivered
        new.email = "owner@balance.test"
        let (site, key) = try await SiteStore(database: database, protection: .development).create(new)
        // Three answered calls of 30 s, one minute each: 12 → 11 → 10 → 9. Crossed: 11 and 10, once each.
        let phones = (0..<3).map { _ in number(0) }
        var ids: [String] = []
        for phone in phones {
            ids.append(try await request(cluster, key: key, phone: phone))
            try await waitTerminal([ids.last!])
            if ids.count == 2 { try cluster.replaceWorker(at: 0) }  // kill -9 while the first warnings may be in flight
        }
        let owner = "+79160000772"
        func ownerTexts() async throws -> [String] {
            try await cluster.messages().filter { $0["to"] as? String == owner }.compactMap { $0["text"] as? String }
        }
        // The two crossings' messages, each under its effect key (the debit that crossed it), sent.
        for (threshold, callback) in [(11, ids[0]), (10, ids[1])] {
            for (channel, to) in [("sms", owner), ("email", "owner@balance.test")] {
                try await waitForJob(queue: "notifications", dedupKey: messageKey(channel, "low_balance", "\(site.id):\(threshold):\(callback)", to: to))
            }
        }
        let texts = try await ownerTexts()
        #expect(texts.count == 2, "one SMS per crossing: \(texts)")
        #expect(texts.contains { $0.contains("down to 11 minutes (below 11)") })
        #expect(texts.contains { $0.contains("down to 10 minutes (below 10)") })
        let emails = try mail.messages()
        #expect(emails.count == 2)
        #expect(emails.allSatisfy { $0.contains("To: owner@balance.test") || $0.contains("To: <owner@balance.test>") })
        #expect(try await database.query("SELECT balance_minutes FROM sites WHERE id = $1::uuid", [site.id])[0].decode("balance_minutes", as: Int.self) == 9)

        // Delivery reports: the owner's phone is off (undelivered); the emails were accepted (sent).
        #expect(try await eventually(timeout: .seconds(30)) {
            let rows = try await deliveries(site: site.id)
            return rows.count == 4 && rows.filter { $0.channel == "sms" }.allSatisfy { $0.status == "undelivered" }
        })
        let recorded = try await deliveries(site: site.id)
        #expect(recorded.map(\.message) == Array(repeating: "low_balance", count: 4))
        #expect(recorded.filter { $0.channel == "email" }.allSatisfy { $0.status == "sent" && $0.recipient == "owner@balance.test" })

        // A replayed message job (same payload, no dedup key: as if redelivered after a crash)
        // finds its effect done and sends nothing.
        let effect = try await database.query("SELECT effect_key FROM deliveries WHERE site_id = $1::uuid AND channel = 'sms' LIMIT 1",
                                               [site.id])[0].decode("effect_key", as: String.self)
        let payload = #"{"effect_key":"\#(effect)","message":"low_balance","site_id":"\#(site.id)","to":"\#(owner)","variables":{"balance":"11","site":"x","threshold":"11","visitor":"+70000000000"}}"#
        let replay = try await RedialBinary.run(["enqueue", "--type", "notify.sms", "--payload", payload], environment: cluster.environment)
        #expect(replay.status == 0, "\(replay.output)")
        try await waitForJob(queue: "notifications", id: replay.output.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(try await ownerTexts().count == 2)
    }

    @Test func emailsToOneRecipientAreThrottledNotDropped() async throws {
        let mail = try await MailSink()
        defer { mail.stop() }
        let cluster = try await Cluster(workers: 1, smtpURL: mail.url, settings: ["REDIAL_EMAIL_PER_RECIPIENT": "2/6s"])
        defer { cluster.stop() }
        let address = "busy-\(UInt32.random(in: 0...UInt32.max))@throttle.test"
        let (_, key) = try await site(email: address)
        // Digit 7: invalid number, failed at once; each failure emails the site's address.
        var ids: [String] = []
        for _ in 0..<3 { ids.append(try await request(cluster, key: key, phone: number(7))) }
        try await waitTerminal(ids)
        #expect(try await eventually(timeout: .seconds(10)) { try mail.messages().count >= 2 })
        // Two sent, the third waiting for the window: snoozed (retry), not sent, not dropped.
        var states: [String] = []
        for id in ids {
            states.append(try await waitForJob(queue: "notifications", dedupKey: messageKey("email", "callback_failed", id, to: address),
                                               states: ["completed", "retry"]) ?? "")
        }
        #expect(states.sorted() == ["completed", "completed", "retry"], "\(states)")
        let early = try mail.messages().count
        #expect(early == 2, "the third email waits for the window: got \(early)")
        #expect(try await eventually(timeout: .seconds(20)) { try mail.messages().count == 3 })
    }

    /// An owner's notification settings hold: with the managers' SMS about failed callbacks
    /// turned off, a failed callback e-mails the site's address and texts no manager; turning
    /// the SMS back on texts them for the next one.
    @Test func anEventTurnedOffBySMSIsNotTextedButStillEmailed() async throws {
        let mail = try await MailSink()
        defer { mail.stop() }
        let cluster = try await Cluster(workers: 1, smtpURL: mail.url)
        defer { cluster.stop() }
        let address = "quiet-\(UInt32.random(in: 0...UInt32.max))@settings.test"
        let (siteID, key) = try await site(email: address)
        let store = SiteStore(database: database, protection: .development)
        var quiet = NotificationSettings()
        quiet.smsOff = ["callback_failed"]
        #expect(try await store.setNotifications(id: siteID, ownerPhone: nil, lowBalanceThresholds: [10], quiet))
        let redis = try await TestServices.redis(poolSize: 1)
        defer { Task { await redis.close() } }
        let keys = Keys(queue: "notifications")
        let manager = "+79160000001"
        for (smsOn, round) in [(false, 1), (true, 2)] {
            if smsOn { #expect(try await store.setNotifications(id: siteID, ownerPhone: nil, lowBalanceThresholds: [10], NotificationSettings())) }
            let id = try await request(cluster, key: key, phone: number(7))  // invalid: failed at once
            try await waitTerminal([id])
            // The e-mail and any SMS are queued together (one batch): once the e-mail is sent,
            // the SMS is queued or it never will be.
            try await waitForJob(queue: "notifications", dedupKey: messageKey("email", "callback_failed", id, to: address))
            let smsKey = messageKey("sms", "callback_failed", id, to: manager)
            let sms = try await redis.send("GET", keys.dedup(smsKey)).string
            #expect((sms != nil) == smsOn, "round \(round): the managers' SMS \(smsOn ? "queued" : "not queued")")
            if smsOn { try await waitForJob(queue: "notifications", dedupKey: smsKey) }  // sent here, not by a later test's cluster
        }
        #expect(try mail.messages().filter { $0.contains(address) }.count == 2, "both failures e-mailed")
    }
}
