import API
import CryptoPrimitives
import Domain
import Foundation
import HTTPClient
import LocalServices
import PostgresClient
import Providers
import RedisClient
import Testing
import TestSupport

/// A cabinet of its own for a test: PostgreSQL, Redis, a real SMTP sink, the sandbox (payments),
/// and `redial serve`; `signIn` asks for a link by the form and follows the one mailed.
final class CabinetHarness: @unchecked Sendable {
    // @unchecked: everything is set once in init.
    let databaseURL: String
    let database: PostgresPool
    let redis: PrivateRedis
    let sink: MailSink
    let sandbox: ChildProcess
    let sandboxURL: String
    let api: APIProcess
    let client = HTTPClient()

    init(_ name: String, environment: [String: String] = [:]) async throws {
        databaseURL = try await TestServices.database(name)
        database = PostgresPool(configuration: PostgresConfiguration(url: try PostgresURL(parsing: databaseURL), poolSize: 2))
        try await Migrator.migrate(database, Schema.migrations())
        redis = try await PrivateRedis()
        sink = try await MailSink()
        let secret = "cabinet-test-secret-0123456789"
        let sandboxPort = try LocalHost.freePort()
        sandboxURL = "http://127.0.0.1:\(sandboxPort)"
        sandbox = try RedialBinary.start(["sandbox"], environment: ["REDIAL_SANDBOX_PORT": String(sandboxPort), "REDIAL_TELEPHONY_SECRET": secret],
                                         logName: "cabinet-sandbox-\(sandboxPort)")
        let health = sandboxURL + "/healthz"
        let probe = HTTPClient()
        guard try await eventually(timeout: .seconds(20), { (try? await probe.send(HTTPClientRequest(url: health)))?.status == 200 }) else {
            throw SetupError("the sandbox did not start: \(sandbox.log)")
        }
        api = try await APIProcess(environment: ["REDIAL_DATABASE_URL": databaseURL, "REDIAL_REDIS_URL": redis.url.description,
                                                 "REDIAL_SMTP_URL": sink.url, "REDIAL_TELEPHONY_URL": sandboxURL,
                                                 "REDIAL_TELEPHONY_SECRET": secret].merging(environment) { $1 })
    }

    func stop() {
        api.stop()
        sandbox.stop(signal: SIGTERM)
        sink.stop()
        redis.stop()
    }

    func send(_ method: String = "GET", _ path: String, form: String? = nil, cookie: String? = nil) async throws -> HTTPClientResponse {
        var headers: [(name: String, value: String)] = [("Origin", api.base)]
        if form != nil { headers.append(("Content-Type", "application/x-www-form-urlencoded")) }
        if let cookie { headers.append(("Cookie", cookie)) }
        return try await client.send(HTTPClientRequest(method: method, url: api.base + path, headers: headers, body: form.map { Array($0.utf8) }))
    }

    /// The sign-in links mailed so far, oldest first.
    func links() throws -> [String] {
        try sink.messages().compactMap { message in
            // The text goes base64-encoded (UTF-8), after the headers.
            let body = message.components(separatedBy: "\n\n").dropFirst().joined().filter { !$0.isWhitespace }
            let text = Data(base64Encoded: body).map { String(decoding: $0, as: UTF8.self) } ?? message
            return text.range(of: #"/cabinet/link\?token=[A-Za-z0-9_-]+"#, options: .regularExpression).map { String(text[$0]) }
        }
    }

    /// Asks for a link for `email`, follows it; the session's cookie and CSRF token.
    func signIn(_ email: String) async throws -> (cookie: String, csrf: String) {
        let before = try links().count
        _ = try await send("POST", "/cabinet/sign-in", form: "email=" + email.replacingOccurrences(of: "@", with: "%40"))
        guard try await eventually(timeout: .seconds(10), { try self.links().count == before + 1 }) else { throw SetupError("no link mailed to \(email)") }
        let followed = try await send("GET", try links()[before])
        guard followed.status == 303, let cookie = followed.header("Set-Cookie")?.split(separator: ";").first.map(String.init) else {
            throw SetupError("the link did not sign in: \(followed.status)")
        }
        let home = try await send("GET", "/cabinet", cookie: cookie)
        return (cookie, try Self.csrf(home.text))
    }

    static func csrf(_ page: String) throws -> String {
        try #require(page.range(of: #"name="csrf" value="[^"]+""#, options: .regularExpression)
            .map { String(page[$0].dropFirst(#"name="csrf" value=""#.count).dropLast()) })
    }

    static func owner() -> String { "owner-\(UInt32.random(in: 0...UInt32.max))@shop.example" }
}

/// The owner's cabinet over HTTP: a sign-in link is mailed to a site's address (and to no
/// other), works once, and not after it expires; the owner sees their own sites only, with
/// callbacks, recordings and balance history; every setting they change (widget, hours,
/// managers, limits, notifications) is validated, saved, and shows where it acts (the widget's
/// settings, the intake's limits); another owner's site and a form without the session's token
/// are refused; a top-up goes through the provider's checkout and lands once; a promo code
/// credits once; the reports show the database's figures.
@Suite struct CabinetTests {
    @Test func anOwnerSignsInByLinkSeesOnlyTheirSitesAndTheirRecordings() async throws {
        let objects = try await ObjectStore()
        defer { objects.stop() }
        let bucket = "cabinet-\(UInt32.random(in: 0...UInt32.max))"
        let cabinet = try await CabinetHarness("cabinet", environment: objects.settings(bucket: bucket))
        defer { cabinet.stop() }
        let database = cabinet.database
        let owner = CabinetHarness.owner()
        let store = SiteStore(database: database, protection: .development)
        var mine = SiteStore.NewSite(name: TestServices.uniqueName("Mine"), managers: ["+79160000001"])
        mine.email = owner
        mine.balanceMinutes = 42
        let site = try await store.create(mine).site
        var theirs = SiteStore.NewSite(name: TestServices.uniqueName("Theirs"), managers: ["+79160000002"])
        theirs.email = "someone-else@shop.example"
        let other = try await store.create(theirs).site
        // A recording of one of the owner's callbacks, in a real S3-compatible store.
        let storage = S3ObjectStorage(baseURL: objects.url, bucket: bucket, region: "us-east-1", accessKey: "test-key", secretKey: "test-secret")
        try await storage.ensureBucket()
        let audio = (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("cabinet-\(UUID().uuidString).wav")
        try Data(audio).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        _ = try await storage.put(file: file.path, key: "recordings/cabinet-test.wav", contentType: "audio/wav")
        let callback = try await database.query("""
            INSERT INTO callbacks (site_id, phone, phone_tail, status) VALUES ($1::uuid, 'sealed', '4567', 'completed') RETURNING id::text AS id
            """, [site.id])[0].decode("id", as: String.self)
        try await database.query("""
            INSERT INTO recordings (callback_id, attempt, site_id, source_url, bucket, object_key, size_bytes, sha256, etag, parts)
            VALUES ($1::uuid, 1, $2::uuid, 'http://carrier/rec', $3, 'recordings/cabinet-test.wav', 4096, 'x', 'x', 1)
            """, [callback, site.id, bucket])
        let announcements = Announcements(database: database)
        _ = try await announcements.add(title: "Reports by SMS", body: "Daily reports can now come by SMS.")
        _ = try await announcements.add(title: "Old news", body: "Gone.", startsAt: Date(timeIntervalSinceNow: -7200), endsAt: Date(timeIntervalSinceNow: -3600))
        await #expect(throws: DomainError.self) { _ = try await announcements.add(title: "", body: "x") }
        func send(_ method: String = "GET", _ path: String, form: String? = nil, cookie: String? = nil) async throws -> HTTPClientResponse {
            try await cabinet.send(method, path, form: form, cookie: cookie)
        }

        #expect(try await send("GET", "/cabinet").header("Location") == "/cabinet/sign-in", "signed out: to the sign-in page")
        let unknown = try await send("POST", "/cabinet/sign-in", form: "email=nobody%40shop.example")
        let asked = try await send("POST", "/cabinet/sign-in", form: "email=" + owner.replacingOccurrences(of: "@", with: "%40"))
        #expect(asked.status == 200 && unknown.status == 200 && unknown.text.contains("is on its way"), "the same answer for any address")
        #expect(try await eventually(timeout: .seconds(10)) { try cabinet.links().count == 1 }, "one link, to the site's address only")
        let link = try #require(try cabinet.links().first)

        let followed = try await send("GET", link)
        #expect(followed.status == 303 && followed.header("Location") == "/cabinet")
        let cookie = String(try #require(followed.header("Set-Cookie"), "\(followed.status)").split(separator: ";")[0])
        #expect(try await send("GET", link).status == 410, "a link works once")

        let home = try await send("GET", "/cabinet", cookie: cookie)
        #expect(home.status == 200 && home.text.contains(mine.name) && home.text.contains("/cabinet/sites/\(site.id)"))
        #expect(!home.text.contains(theirs.name), "only the owner's sites")
        #expect(home.text.contains("Reports by SMS") && !home.text.contains("Old news"), "current announcements only")
        let page = try await send("GET", "/cabinet/sites/\(site.id)", cookie: cookie)
        #expect(page.status == 200 && page.text.contains("<b>42</b>"), "the balance")
        #expect(page.text.contains("opening"), "the balance's history")
        #expect(page.text.contains("…4567"), "a callback by its number's last digits")
        #expect(try await send("GET", "/cabinet/sites/\(other.id)", cookie: cookie).status == 404, "another owner's site is not shown")
        #expect(try await send("GET", "/cabinet/sites/\(other.id)/report.csv?from=2026-01-01&to=2026-01-02", cookie: cookie).status == 404)
        let player = try #require(page.text.range(of: #"/cabinet/recordings/[^"]+"#, options: .regularExpression).map { String(page.text[$0]) }
            .map { $0.replacingOccurrences(of: "&amp;", with: "&") }, "a player for the recording")
        let played = try await send("GET", player)
        #expect(played.status == 200 && played.body == audio && played.header("Content-Type") == "audio/wav", "the recording plays: \(played.status)")
        #expect(try await send("GET", player.replacingOccurrences(of: "sig=", with: "sig=0")).status == 403, "a forged signature")
        let past = Int(Date().timeIntervalSince1970) - 1
        let expired = "/cabinet/recordings/\(callback)?expires=\(past)&sig=\(DataProtection.development.lookup("cabinet-recording:\(callback):\(past)"))"
        #expect(try await send("GET", expired).status == 403, "an expired link, however well signed")
        let csrf = try CabinetHarness.csrf(page.text)
        #expect(try await send("POST", "/cabinet/sites/\(other.id)/widget", form: "csrf=\(csrf)&color=%23000000&position=left", cookie: cookie).status == 404,
                "another owner's site")
        #expect(try await send("POST", "/cabinet/sites/\(site.id)/widget", form: "csrf=forged&color=%23000000", cookie: cookie).status == 403)
        #expect(try await send("POST", "/cabinet/sites/\(site.id)/widget", form: "color=%23000000").status == 401, "signed out")
        #expect(try await store.find(id: other.id)?.widget == WidgetSettings(), "the other site is untouched")

        // An expired link does not sign in.
        _ = try await send("POST", "/cabinet/sign-in", form: "email=" + owner.replacingOccurrences(of: "@", with: "%40"))
        #expect(try await eventually(timeout: .seconds(10)) { try cabinet.links().count == 2 })
        try await database.query("UPDATE owner_links SET expires_at = now() - interval '1 second' WHERE email = $1 AND used_at IS NULL", [owner])
        #expect(try await send("GET", try #require(try cabinet.links().last)).status == 410, "an expired link")
        #expect(try await send("POST", "/cabinet/sign-out", form: "csrf=\(csrf)", cookie: cookie).status == 303)
        #expect(try await send("GET", "/cabinet", cookie: cookie).header("Location") == "/cabinet/sign-in", "signed out")
    }

    @Test func anOwnersSettingsAreValidatedSavedAndActWhereTheyShouldTheirMoneyLandsOnce() async throws {
        let cabinet = try await CabinetHarness("cabinet")
        defer { cabinet.stop() }
        let owner = CabinetHarness.owner()
        let store = SiteStore(database: cabinet.database, protection: .development)
        var new = SiteStore.NewSite(name: TestServices.uniqueName("Settings"), managers: ["+79160000001"])
        new.email = owner
        new.defaultCountryCode = "7"
        new.balanceMinutes = 5
        let (site, key) = try await store.create(new)
        let (cookie, csrf) = try await cabinet.signIn(owner)
        let base = "/cabinet/sites/\(site.id)"
        func post(_ section: String, _ form: String) async throws -> HTTPClientResponse {
            try await cabinet.send("POST", "\(base)/\(section)", form: "csrf=\(csrf)&" + form, cookie: cookie)
        }
        func config() async throws -> String {
            try await cabinet.client.send(HTTPClientRequest(url: cabinet.api.base + "/v1/widget/config", headers: [("X-Site-Key", key)])).text
        }

        // The widget: saved, and served to the widget; a bad colour is named and nothing saved.
        #expect(try await post("widget", "color=%23334455&position=left&button_text=Call+us&open_after_s=").status == 303)
        let widget = try await config()
        #expect(widget.contains(#""button_text":"Call us""#) && widget.contains(##""color":"#334455""##) && widget.contains(#""position":"left""#),
                "the widget shows the change: \(widget)")
        let badColour = try await post("widget", "color=green&position=right")
        #expect(badColour.status == 400 && badColour.text.contains("color"), "a bad value is named")
        #expect(try await store.find(id: site.id)?.widget.position == .left, "nothing saved from a bad form")

        // Working hours and zone: weekdays 09:00-18:00 in Moscow, and the widget's promise uses them.
        let weekdays = (1...5).map { "open_\($0)=on&from_\($0)=09%3A00&to_\($0)=18%3A00" }.joined(separator: "&")
        #expect(try await post("hours", weekdays + "&from_6=10%3A00&to_6=14%3A00&timezone=Europe%2FMoscow").status == 303)
        var saved = try #require(try await store.find(id: site.id))
        #expect(saved.timeZone.identifier == "Europe/Moscow" && saved.hours.days.keys.sorted() == [1, 2, 3, 4, 5], "Saturday unticked: closed")
        #expect(saved.hours.days[3] == (try WorkingHours.span(open: "09:00", close: "18:00")))
        #expect(try await config().contains(#""time_zone":"Europe\/Moscow""#))
        let backwards = try await post("hours", "open_1=on&from_1=18%3A00&to_1=09%3A00&timezone=Europe%2FMoscow")
        #expect(backwards.status == 400 && backwards.text.contains("Monday"), "the day is named: \(backwards.text.prefix(300))")
        #expect(try await post("hours", "timezone=Europe%2FMoscow").status == 400, "never open")
        #expect(try await post("hours", "open_1=on&from_1=09%3A00&to_1=18%3A00&timezone=Mars%2FOlympus").status == 400)
        #expect(try await store.find(id: site.id)?.hours == saved.hours, "nothing saved from a bad form")

        // Managers: national numbers read with the site's country; a bad one is named.
        #expect(try await post("managers", "managers=8+916+000-00-02%0D%0A%2B79160000003%0D%0A").status == 303)
        #expect(try await store.find(id: site.id)?.managers == ["+79160000002", "+79160000003"])
        let badManager = try await post("managers", "managers=12")
        #expect(badManager.status == 400 && badManager.text.contains("manager"))
        #expect(try await post("managers", "managers=").status == 400, "at least one manager")

        // Limits act at intake: one number per visitor an hour.
        #expect(try await post("limits", "client_numbers_per_hour=1&site_per_minute=").status == 303)
        saved = try #require(try await store.find(id: site.id))
        #expect(saved.limits.clientNumbersPerHour == 1 && saved.limits.sitePerMinute == IntakeLimits().sitePerMinute, "empty: the default")
        #expect(try await post("limits", "number_per_day=0").status == 400)
        #expect(try await post("limits", "number_per_day=many").status == 400)
        func ask(_ phone: String) async throws -> Int {
            try await cabinet.client.send(HTTPClientRequest(method: "POST", url: cabinet.api.base + "/v1/callbacks",
                                                            headers: [("X-Site-Key", key), ("Content-Type", "application/json")],
                                                            body: Array(#"{"phone": "\#(phone)"}"#.utf8))).status
        }
        #expect(try await ask("+79161112233") == 202)
        #expect(try await ask("+79161112244") == 429, "the owner's limit holds: a second number from the same visitor")

        // Notifications: what is unticked is off; the page shows it so.
        #expect(try await post("notifications", "sms_low_balance=on&email_callback_failed=on&weekly_report=on&owner_phone=8+916+000+00+09&thresholds=30%2C+5").status == 303)
        saved = try #require(try await store.find(id: site.id))
        #expect(saved.notifications.smsOff == ["callback_failed", "after_hours"] && saved.notifications.emailOff == ["low_balance"])
        #expect(!saved.notifications.dailyReport && saved.notifications.weeklyReport)
        #expect(saved.ownerPhone == "+79160000009" && saved.lowBalanceThresholds == [30, 5])
        let page = try await cabinet.send("GET", base, cookie: cookie).text
        #expect(page.contains(#"name="sms_low_balance" aria-label="The balance fell to a warning level (to the owner) by SMS" checked"#))
        #expect(page.contains(#"name="sms_callback_failed" aria-label="A callback ran out of attempts (to the managers) by SMS">"#))
        #expect(try await post("notifications", "thresholds=lots").status == 400)
        #expect(try await post("notifications", "thresholds=5&owner_phone=12").status == 400)

        // A promo code credits once.
        #expect(try await PromoCode(database: cabinet.database).create("WELCOME25", minutes: 25, expiresAt: nil))
        #expect(try await post("promo", "code=welcome25").status == 303)
        #expect(try await post("promo", "code=WELCOME25").status == 409, "a second redemption")
        #expect(try await post("promo", "code=NOSUCH").status == 400)

        // A top-up: to the provider's checkout, back to the cabinet, credited once by its event.
        let paying = try await post("top-up", "minutes=300")
        let checkout = try #require(paying.header("Location"), "\(paying.status) \(paying.text.prefix(300))")
        #expect(paying.status == 303 && checkout.hasPrefix(cabinet.sandboxURL + "/sandbox/checkout/"))
        let paid = try await cabinet.client.send(HTTPClientRequest(url: checkout))
        #expect(paid.status == 200 && paid.text.contains("300 minutes") && paid.text.contains(cabinet.api.base + base), "a way back")
        #expect(try await post("top-up", "minutes=7").status == 400, "only the offered amounts")
        let ledger = BalanceLedger(database: cabinet.database)
        #expect(try await eventually(timeout: .seconds(20)) { try await ledger.entries(siteID: site.id).contains { $0.kind == .topUp } })
        let entries = try await ledger.entries(siteID: site.id)
        #expect(entries.map(\.kind) == [.opening, .promo, .topUp])
        let balance = try #require(try await store.find(id: site.id)).balanceMinutes
        #expect(balance == 5 + 25 + 300 && balance == entries.map(\.minutes).reduce(0, +))
        #expect(try await cabinet.send("GET", base, cookie: cookie).text.contains("<b>330</b>"))

        // Reports: today's figures are the database's; the CSV is the period's callbacks.
        let reports = try await cabinet.send("GET", "\(base)/reports", cookie: cookie)
        #expect(reports.status == 200 && reports.text.contains("<td>today so far</td><td>1</td>"), "one callback today: \(reports.text.prefix(1500))")
        let csvLink = try #require(reports.text.range(of: #"/cabinet/sites/[^"]+/report\.csv\?from=[0-9-]+&amp;to=[0-9-]+"#, options: .regularExpression)
            .map { String(reports.text[$0]).replacingOccurrences(of: "&amp;", with: "&") })
        let csv = try await cabinet.send("GET", csvLink, cookie: cookie)
        #expect(csv.status == 200 && csv.text.hasPrefix("callback_id,") && csv.text.contains("+79161112233"), "\(csv.text.prefix(300))")
        #expect(try await cabinet.send("GET", "\(base)/report.csv?from=2026-02-30&to=2026-03-02", cookie: cookie).status == 400)
        #expect(try await cabinet.send("GET", "\(base)/report.csv?from=2026-01-01&to=2026-12-01", cookie: cookie).status == 400, "too long")
    }
}
