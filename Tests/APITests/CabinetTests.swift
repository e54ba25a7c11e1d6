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

/// The owner's cabinet over HTTP, with a real SMTP sink: a sign-in link is mailed to a site's
/// address (and to no other), works once, and not after it expires; the owner sees their own
/// sites only, with callbacks and balance history, and changes their widget, which the widget's
/// settings then show; another owner's site and a form without the session's token are refused.
@Suite struct CabinetTests {
    @Test func anOwnerSignsInByLinkSeesOnlyTheirSitesAndChangesTheirWidget() async throws {
        let databaseURL = try await TestServices.database("cabinet")
        let database = PostgresPool(configuration: PostgresConfiguration(url: try PostgresURL(parsing: databaseURL), poolSize: 2))
        try await Migrator.migrate(database, Schema.migrations())
        let redis = try await PrivateRedis()
        defer { redis.stop() }
        let sink = try await MailSink()
        defer { sink.stop() }
        let owner = "owner-\(UInt32.random(in: 0...UInt32.max))@shop.example"
        let store = SiteStore(database: database, protection: .development)
        var mine = SiteStore.NewSite(name: TestServices.uniqueName("Mine"), managers: ["+79160000001"])
        mine.email = owner
        mine.balanceMinutes = 42
        let (site, key) = try await store.create(mine)
        var theirs = SiteStore.NewSite(name: TestServices.uniqueName("Theirs"), managers: ["+79160000002"])
        theirs.email = "someone-else@shop.example"
        let other = try await store.create(theirs).site
        // A recording of one of the owner's callbacks, in a real S3-compatible store.
        let objects = try await ObjectStore()
        defer { objects.stop() }
        let bucket = "cabinet-\(UInt32.random(in: 0...UInt32.max))"
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
        let api = try await APIProcess(environment: ["REDIAL_DATABASE_URL": databaseURL, "REDIAL_REDIS_URL": redis.url.description,
                                                     "REDIAL_SMTP_URL": sink.url].merging(objects.settings(bucket: bucket)) { $1 })
        defer { api.stop() }
        let client = HTTPClient()
        func send(_ method: String = "GET", _ path: String, form: String? = nil, cookie: String? = nil) async throws -> HTTPClientResponse {
            var headers: [(name: String, value: String)] = [("Origin", api.base)]
            if form != nil { headers.append(("Content-Type", "application/x-www-form-urlencoded")) }
            if let cookie { headers.append(("Cookie", cookie)) }
            return try await client.send(HTTPClientRequest(method: method, url: api.base + path, headers: headers, body: form.map { Array($0.utf8) }))
        }
        func links() throws -> [String] {
            try sink.messages().compactMap { message in
                // The text goes base64-encoded (UTF-8), after the headers.
                let body = message.components(separatedBy: "\n\n").dropFirst().joined().filter { !$0.isWhitespace }
                let text = Data(base64Encoded: body).map { String(decoding: $0, as: UTF8.self) } ?? message
                return text.range(of: #"/cabinet/link\?token=[A-Za-z0-9_-]+"#, options: .regularExpression).map { String(text[$0]) }
            }
        }

        #expect(try await send("GET", "/cabinet").header("Location") == "/cabinet/sign-in", "signed out: to the sign-in page")
        let unknown = try await send("POST", "/cabinet/sign-in", form: "email=nobody%40shop.example")
        let asked = try await send("POST", "/cabinet/sign-in", form: "email=" + owner.replacingOccurrences(of: "@", with: "%40"))
        #expect(asked.status == 200 && unknown.status == 200 && unknown.text.contains("is on its way"), "the same answer for any address")
        #expect(try await eventually(timeout: .seconds(10)) { try links().count == 1 }, "one link, to the site's address only")
        let link = try #require(try links().first)

        let followed = try await send("GET", link)
        #expect(followed.status == 303 && followed.header("Location") == "/cabinet")
        let cookie = String(try #require(followed.header("Set-Cookie"), "\(followed.status)").split(separator: ";")[0])
        #expect(try await send("GET", link).status == 410, "a link works once")

        let home = try await send("GET", "/cabinet", cookie: cookie)
        #expect(home.status == 200 && home.text.contains(mine.name) && home.text.contains("<b>42</b>"))
        #expect(!home.text.contains(theirs.name), "only the owner's sites")
        #expect(home.text.contains("opening"), "the balance's history")
        #expect(home.text.contains("Reports by SMS") && !home.text.contains("Old news"), "current announcements only")
        #expect(home.text.contains("…4567"), "a callback by its number's last digits")
        let player = try #require(home.text.range(of: #"/cabinet/recordings/[^"]+"#, options: .regularExpression).map { String(home.text[$0]) }
            .map { $0.replacingOccurrences(of: "&amp;", with: "&") }, "a player for the recording")
        let played = try await send("GET", player)
        #expect(played.status == 200 && played.body == audio && played.header("Content-Type") == "audio/wav", "the recording plays: \(played.status)")
        #expect(try await send("GET", player.replacingOccurrences(of: "sig=", with: "sig=0")).status == 403, "a forged signature")
        let past = Int(Date().timeIntervalSince1970) - 1
        let expired = "/cabinet/recordings/\(callback)?expires=\(past)&sig=\(DataProtection.development.lookup("cabinet-recording:\(callback):\(past)"))"
        #expect(try await send("GET", expired).status == 403, "an expired link, however well signed")
        let csrf = try #require(home.text.range(of: #"name="csrf" value="[^"]+""#, options: .regularExpression)
            .map { String(home.text[$0].dropFirst(#"name="csrf" value=""#.count).dropLast()) })

        let saved = try await send("POST", "/cabinet/widget", form: "csrf=\(csrf)&site=\(site.id)&color=%23334455&position=left&button_text=Call+us&open_after_s=",
                                   cookie: cookie)
        #expect(saved.status == 303, "\(saved.text)")
        let config = try await client.send(HTTPClientRequest(url: api.base + "/v1/widget/config", headers: [("X-Site-Key", key)]))
        #expect(config.text.contains(#""button_text":"Call us""#) && config.text.contains(##""color":"#334455""##) && config.text.contains(#""position":"left""#),
                "the widget shows the change: \(config.text)")
        #expect(try await send("POST", "/cabinet/widget", form: "csrf=\(csrf)&site=\(other.id)&color=%23000000&position=left", cookie: cookie).status == 404,
                "another owner's site")
        #expect(try await send("POST", "/cabinet/widget", form: "csrf=forged&site=\(site.id)&color=%23000000", cookie: cookie).status == 403)
        let bad = try await send("POST", "/cabinet/widget", form: "csrf=\(csrf)&site=\(site.id)&color=green&position=left", cookie: cookie)
        #expect(bad.status == 400 && bad.text.contains("color"), "a bad value is named")
        #expect(try await store.find(id: other.id)?.widget == WidgetSettings(), "the other site is untouched")

        // An expired link does not sign in.
        _ = try await send("POST", "/cabinet/sign-in", form: "email=" + owner.replacingOccurrences(of: "@", with: "%40"))
        #expect(try await eventually(timeout: .seconds(10)) { try links().count == 2 })
        try await database.query("UPDATE owner_links SET expires_at = now() - interval '1 second' WHERE email = $1 AND used_at IS NULL", [owner])
        #expect(try await send("GET", try #require(try links().last)).status == 410, "an expired link")
        #expect(try await send("POST", "/cabinet/sign-out", form: "csrf=\(csrf)", cookie: cookie).status == 303)
        #expect(try await send("GET", "/cabinet", cookie: cookie).header("Location") == "/cabinet/sign-in", "signed out")
    }
}
