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

/// The widget on a hostile page (its CSS unsets and hides everything, 64 px fonts), in a
/// Shadow DOM: it renders with its own look and the site's settings, and submits by mouse and by
/// keyboard alone (Tab into it, Enter, the focus kept in the open form, Escape closes and gives
/// the focus back); a Russian site's widget speaks Russian (and English when the page asks);
/// outside working hours it says when the call will come, in the visitor's clock; a settings
/// change shows at the next load; it asks no origin but the API's.
extension DialFlowTests {
    func widgetChecks(_ scenario: String, _ cluster: Cluster, key: String, _ argument: String = "-",
                      zone: String? = nil) async throws -> [String: Any] {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/widget_checks.py").path
        let environment = zone.map { ["TZ_OVERRIDE": $0] } ?? [:]
        let browser = try ChildProcess("/usr/bin/python3", [script, scenario, cluster.api, key, argument],
                                       environment: ProcessInfo.processInfo.environment.merging(environment) { $1 },
                                       logName: "widget-\(scenario)-\(UInt16.random(in: 0...UInt16.max))")
        guard await browser.waitForExit(timeout: .seconds(120)) == 0 else { throw SetupError("the browser driver failed: \(browser.log)") }
        let line = browser.log.split(separator: "\n").last { $0.hasPrefix("{") } ?? ""
        return try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "no result in \(browser.log)")
    }

    @Test func theWidgetHoldsOnAHostilePageSpeaksTheSitesLanguageAndWorksByKeyboard() async throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium") else {
            throw SetupError("Chromium is not installed: run `make deps` (chromium, chromium-driver, python3-selenium)")
        }
        let cluster = try await Cluster(workers: 1)
        defer { cluster.stop() }
        let store = SiteStore(database: database, protection: .development)
        let english = try await site()
        var look = WidgetSettings()
        look.color = "#aa2200"
        look.position = .left
        look.buttonText = "Ring me"
        #expect(try await store.setWidget(id: english.id, look))
        let origin = URL(string: cluster.api).map { "\($0.scheme!)://\($0.host!):\($0.port!)" }

        let hostile = try await widgetChecks("submit", cluster, key: english.key, "+7 916 \(Int.random(in: 100...999)) 12 30")
        #expect(hostile["ready"] as? Bool == true && hostile["visible"] as? Bool == true, "\(hostile)")
        #expect(hostile["button"] as? String == "Ring me")
        #expect(hostile["background"] as? String == "rgb(170, 34, 0)", "the site's colour")
        #expect((hostile["left"] as? Double ?? 0) > 0 && (hostile["left"] as? Double ?? 0) < 100, "in the left corner: \(hostile)")
        #expect(hostile["font_size"] as? String == "16px" && hostile["panel_font_size"] as? String == "16px", "the page's 64 px did not reach in")
        #expect(hostile["promise"] as? String == "We will call you within a minute.")
        let statuses = hostile["statuses"] as? [String] ?? []
        #expect(!statuses.isEmpty && !statuses.contains("error"), "\(statuses)")
        let submitted = try #require(hostile["callback_id"] as? String)
        #expect(try await database.query("SELECT 1 FROM callbacks WHERE id = $1::uuid AND site_id = $2::uuid", [submitted, english.id]).count == 1)
        let origins = hostile["request_origins"] as? [String] ?? []
        #expect(origins.contains { $0 == origin }, "\(origins)")
        let others = origins.filter { $0 != origin && $0 != hostile["page_origin"] as? String }
        #expect(others.isEmpty, "requests to other origins than the API and the page: \(others)")

        let keyboard = try await widgetChecks("keyboard", cluster, key: english.key, "+7 916 \(Int.random(in: 100...999)) 45 60")
        #expect(keyboard["first_tab"] as? String == "b redial-button", "Tab reaches the button: \(keyboard)")
        #expect(keyboard["opened"] as? Bool == true && keyboard["after_open"] as? String == "redial-phone")
        #expect(keyboard["after_phone"] as? String == "redial-name" && keyboard["after_name"] as? String == "s redial-submit")
        #expect(keyboard["trapped_to"] as? String == "x redial-close", "Tab from the last field stays in the form")
        #expect(keyboard["back_to"] as? String == "s redial-submit")
        #expect(keyboard["announced"] as? String == "status")
        #expect(keyboard["closed"] as? Bool == true && keyboard["focus_returned"] as? String == "b redial-button", "Escape closes: \(keyboard)")
        let typed = try #require(keyboard["callback_id"] as? String)
        let name = try await database.query("SELECT name FROM callbacks WHERE id = $1::uuid", [typed]).first
        #expect(try name.map { try DataProtection.development.open(try $0.decode("name"), .callbackName) } == "Keyboard Only")

        // A Russian site, closed now: a zone where it is 20:00-06:59, hours 09:00-18:00 every day.
        let now = Date()
        let closedZone = try #require(TimeZone.knownTimeZoneIdentifiers.compactMap(TimeZone.init(identifier:)).first { zone in
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = zone
            let hour = calendar.component(.hour, from: now)
            return zone.secondsFromGMT(for: now) % 3600 == 0 && (hour >= 20 || hour < 7)
        })
        let russian = try await site(hours: try WorkingHours(parsing: "09:00-18:00"), zone: closedZone.identifier, language: "ru")
        let seen = try await widgetChecks("look", cluster, key: russian.key, zone: "UTC")
        #expect(seen["button"] as? String == "Перезвоните мне" && seen["title"] as? String == "Мы вам перезвоним" && seen["lang"] as? String == "ru",
                "\(seen)")
        #expect(seen["phone_label"] as? String == "Ваш номер телефона")
        var siteCalendar = Calendar(identifier: .gregorian)
        siteCalendar.timeZone = closedZone
        let opens = try #require(siteCalendar.nextDate(after: now, matching: DateComponents(hour: 9, minute: 0), matchingPolicy: .nextTime))
        var visitor = Calendar(identifier: .gregorian)
        visitor.timeZone = TimeZone(identifier: "UTC")!
        let time = String(format: "%02d:%02d", visitor.component(.hour, from: opens), visitor.component(.minute, from: opens))
        let day = visitor.isDate(opens, inSameDayAs: now) ? "сегодня в \(time)" : "завтра в \(time)"
        #expect(seen["promise"] as? String == "Сейчас мы не работаем: перезвоним \(day).", "site zone \(closedZone.identifier): \(seen)")
        let asked = try await widgetChecks("look", cluster, key: russian.key, "en")
        #expect(asked["button"] as? String == "Call me back" && asked["lang"] as? String == "en", "data-lang wins: \(asked)")

        // A settings change shows at the next load.
        var changed = WidgetSettings()
        changed.buttonText = "Жду звонка"
        #expect(try await store.setWidget(id: russian.id, changed))
        let again = try await widgetChecks("look", cluster, key: russian.key)
        #expect(again["button"] as? String == "Жду звонка")
    }
}
