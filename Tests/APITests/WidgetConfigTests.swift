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

/// The widget's script and a site's settings for it over HTTP: cached and revalidated by
/// version (304 while unchanged, a new version after a change), refused without a key or from an
/// origin the site does not allow; settings validated with every reason, by the store and by
/// `redial sites widget`; the script within its 15 KB gzipped budget.
@Suite struct WidgetConfigTests {
    @Test func settingsAreServedCachedByVersionAndValidated() async throws {
        let databaseURL = try await TestServices.database("widget_config")
        let database = PostgresPool(configuration: PostgresConfiguration(url: try PostgresURL(parsing: databaseURL), poolSize: 2))
        try await Migrator.migrate(database, Schema.migrations())
        let redis = try await PrivateRedis()
        defer { redis.stop() }
        let api = try await APIProcess(environment: ["REDIAL_DATABASE_URL": databaseURL, "REDIAL_REDIS_URL": redis.url.description])
        defer { api.stop() }
        let store = SiteStore(database: database, protection: .development)
        var new = SiteStore.NewSite(name: TestServices.uniqueName("widget"), managers: ["+79160000001"])
        new.language = "ru"
        new.timeZone = "Europe/Moscow"
        new.hours = try WorkingHours(parsing: "09:00-18:00", days: [1, 2, 3, 4, 5])
        new.allowedOrigins = ["https://shop.example"]
        let (site, key) = try await store.create(new)
        let client = HTTPClient()
        func get(_ path: String, key: String? = key, origin: String? = "https://shop.example", ifNoneMatch: String? = nil) async throws -> HTTPClientResponse {
            var headers: [(name: String, value: String)] = []
            if let key { headers.append(("X-Site-Key", key)) }
            if let origin { headers.append(("Origin", origin)) }
            if let ifNoneMatch { headers.append(("If-None-Match", ifNoneMatch)) }
            return try await client.send(HTTPClientRequest(url: api.base + path, headers: headers))
        }

        let first = try await get("/v1/widget/config")
        #expect(first.status == 200, "\(first.text)")
        let config = try #require(try JSONSerialization.jsonObject(with: Data(first.body)) as? [String: Any])
        #expect(config["language"] as? String == "ru" && config["time_zone"] as? String == "Europe/Moscow")
        #expect(config["color"] as? String == "#0b7a3e" && config["position"] as? String == "right" && config["button_text"] == nil)
        #expect((config["hours"] as? [String: Any])?.keys.sorted() == ["1", "2", "3", "4", "5"])
        let tag = try #require(first.header("ETag"))
        #expect(tag == "\"\(config["version"] as? String ?? "")\"")
        #expect(first.header("Cache-Control") == "public, max-age=60")
        #expect(try await get("/v1/widget/config", ifNoneMatch: tag).status == 304, "unchanged: not modified")

        var settings = WidgetSettings()
        settings.color = "#123abc"
        settings.position = .left
        settings.buttonText = "Жду звонка"
        settings.openAfterSeconds = 15
        #expect(try await store.setWidget(id: site.id, settings))
        let changed = try await eventually(timeout: .seconds(10)) { try await get("/v1/widget/config", ifNoneMatch: tag).status == 200 }
        #expect(changed, "a change is a new version")
        let now = try #require(try JSONSerialization.jsonObject(with: Data(try await get("/v1/widget/config").body)) as? [String: Any])
        #expect(now["color"] as? String == "#123abc" && now["position"] as? String == "left" && now["button_text"] as? String == "Жду звонка"
                && now["open_after_s"] as? Int == 15)

        #expect(try await get("/v1/widget/config", key: nil).status == 401)
        #expect(try await get("/v1/widget/config", key: "sk_nobody").status == 401)
        let foreign = try await get("/v1/widget/config", origin: "https://evil.example")
        #expect(foreign.status == 403 && foreign.text.contains("origin_not_allowed"))

        // Bad settings: every reason at once, nothing stored.
        var bad = WidgetSettings()
        bad.color = "green"
        bad.buttonText = String(repeating: "x", count: 41)
        bad.openAfterSeconds = 0
        await #expect {
            _ = try await store.setWidget(id: site.id, bad)
        } throws: { error in
            let message = (error as? DomainError)?.message ?? ""
            return message.contains("color") && message.contains("button_text") && message.contains("open_after_s")
        }
        #expect(try await store.find(id: site.id)?.widget == settings)
        let refused = try await RedialBinary.run(["sites", "widget", site.id, "--position", "top"], environment: ["REDIAL_DATABASE_URL": databaseURL])
        #expect(refused.status == 65 && refused.output.contains("position: expected right or left"), "\(refused.output)")
        let cleared = try await RedialBinary.run(["sites", "widget", site.id, "--button-text", "", "--open-after", "0", "--color", "#00AA00"],
                                                 environment: ["REDIAL_DATABASE_URL": databaseURL])
        #expect(cleared.status == 0 && cleared.output.contains(##""color":"#00AA00""##), "\(cleared.output)")
        let kept = try #require(try await store.find(id: site.id)?.widget)
        #expect(kept.buttonText == nil && kept.openAfterSeconds == nil && kept.position == .left, "unchanged settings kept: \(kept)")

        // The script: the same for every site, revalidated by its hash, within its budget.
        let script = try await get("/widget.js", key: nil, origin: nil)
        #expect(script.status == 200 && script.text.contains("attachShadow"))
        let scriptTag = try #require(script.header("ETag"))
        #expect(try await get("/widget.js", key: nil, origin: nil, ifNoneMatch: scriptTag).status == 304)
        let file = LocalHost.repositoryRoot.appendingPathComponent("Sources/API/Widget/widget.js").path
        let gzipped = try await ChildProcess.run("/bin/sh", ["-c", "gzip -9c '\(file)' | wc -c"])
        let bytes = try #require(Int(gzipped.output.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(bytes < 15 * 1024, "widget.js is \(bytes) bytes gzipped")
        #expect(script.body == Array(try Data(contentsOf: URL(fileURLWithPath: file))), "the served script is the file")
    }
}
