import CryptoPrimitives
import Domain
import Foundation
import LocalServices
import PostgresClient
import Testing
import TestSupport

/// The widget in a real browser: headless Chromium loads the demo page served by a running
/// cluster, a visitor types a number and submits, the page shows the status as it changes, and
/// the callback is in PostgreSQL. A screenshot is saved under .run/test-artifacts/. Part of the
/// serialized dial suite: its cluster must be the only one dialling.
extension DialFlowTests {
    @Test func aVisitorAsksForACallbackAndWatchesItComplete() async throws {
        let cluster = try await Cluster(workers: 1)
        defer { cluster.stop() }
        var new = SiteStore.NewSite(name: TestServices.uniqueName("browser"), managers: ["+79160000001"])
        new.balanceMinutes = 10
        new.defaultCountryCode = "7"
        // The browser posts from loopback, as every test's requests without a proxy do; the
        // per-client limit counts across sites, so this site allows many numbers per client.
        new.limits = ["client_numbers_per_hour": 100_000, "client_numbers_per_day": 100_000]
        let (site, key) = try await SiteStore(database: database, protection: .development).create(new)
        let artifacts = LocalHost.repositoryRoot.appendingPathComponent(".run/test-artifacts")
        try FileManager.default.createDirectory(at: artifacts, withIntermediateDirectories: true)
        let screenshot = artifacts.appendingPathComponent("widget-demo.png").path
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/drive_widget.py").path
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium"), FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver") else {
            throw SetupError("Chromium is not installed: run `make deps` (chromium, chromium-driver, python3-selenium)")
        }
        let phone = "8 916 \(Int.random(in: 100...999)) \(Int.random(in: 10...99)) 90"  // national format, ends in 0: answered
        let browser = try ChildProcess("/usr/bin/python3", [script, "\(cluster.api)/demo?site_key=\(key)&country=7", phone, screenshot],
                                       logName: "browser-\(site.id)")
        guard await browser.waitForExit(timeout: .seconds(120)) == 0 else {
            throw SetupError("the browser driver failed: \(browser.log)")
        }
        let line = browser.log.split(separator: "\n").last { $0.hasPrefix("{") } ?? ""
        let result = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        let id = try #require(result?["callback_id"] as? String)
        #expect(result?["rejected_while_typing"] as? Bool == true, "an impossible number is flagged while typing")
        #expect(result?["final"] as? String == "completed")
        let statuses = result?["statuses"] as? [String] ?? []
        #expect(statuses.first == "queued" || statuses.first == "dialing")
        #expect(statuses.last == "completed")
        let row = try await database.query("SELECT phone, name, status, page_url FROM callbacks WHERE id = $1::uuid AND site_id = $2::uuid",
                                           [id, site.id])
        #expect(row.count == 1)
        #expect(try row.first?.decode("status", as: String.self) == "completed")
        #expect(try row.first.map { try DataProtection.development.open(try $0.decode("name"), .callbackName) } == "Browser Test")
        #expect(try row.first?.decode("page_url", as: String.self).contains("/demo") == true)
        #expect(FileManager.default.fileExists(atPath: screenshot))
    }
}
