import Foundation
import HTTPClient
import LocalServices
import PostgresClient
import Queue
import RedisClient
import Testing
import TestSupport

/// The console's watchdog page over the whole alerting stack: a trunk that stops answering
/// shows as a probe down (from Prometheus) and a TrunkDown alert (from Alertmanager), which
/// on-call acknowledges (its pages stop) and silences from the page.
@Suite struct ConsoleWatchdogTests {
    @Test func aProbeDownAndItsAlertShowAndAreAcknowledgedAndSilencedFromTheConsole() async throws {
        let stack = try await AlertingStack(databaseName: "alerting_console")
        defer { stack.stop() }
        let token = "console-watchdog-token-0123456"
        let api = try await APIProcess(environment: [
            "REDIAL_DATABASE_URL": stack.database, "REDIAL_REDIS_URL": stack.redis.url.description, "REDIAL_ADMIN_TOKEN": token,
            "REDIAL_ALERTMANAGER_URL": "http://127.0.0.1:\(stack.alertmanagerPort)",
            "REDIAL_PROMETHEUS_URL": "http://127.0.0.1:\(stack.prometheusPort)",
        ])
        defer { api.stop() }
        let client = HTTPClient()
        let signedIn = try await client.send(HTTPClientRequest(method: "POST", url: api.base + "/admin/sign-in",
            headers: [("Content-Type", "application/x-www-form-urlencoded")], body: Array("token=\(token)".utf8)))
        let cookie = String(try #require(signedIn.header("Set-Cookie"), "\(signedIn.status)").split(separator: ";")[0])
        func page() async throws -> String {
            try await client.send(HTTPClientRequest(url: api.base + "/admin/watchdog", headers: [("Cookie", cookie)])).text
        }
        func probe(_ state: String) -> Regex<Substring> { try! Regex(#"data-probe="sip_trunk/edge">.*?class="\#(state)""#) }
        #expect(try await eventually(timeout: .seconds(30), every: .milliseconds(500)) { try await page().contains(probe("up")) })

        // The overview's last hour, from Prometheus: three jobs wait on a queue no worker serves.
        let redis = RedisPool(configuration: RedisConfiguration(url: stack.redis.url, poolSize: 1))
        _ = try await JobQueue(redis: redis).enqueue(batch: (0..<3).map { _ in .init(type: "noop", policy: JobPolicy(queue: "charts", maxAttempts: 1)) })
        await redis.close()
        var overview = ""
        let charted = try await eventually(timeout: .seconds(30), every: .milliseconds(500)) {
            overview = try await client.send(HTTPClientRequest(url: api.base + "/admin", headers: [("Cookie", cookie)])).text
            return overview.contains(try Regex(#"<tr data-chart="charts"><td>charts</td><td><svg[^>]*><polyline[^>]*/></svg> 3</td>"#))
        }
        #expect(charted, "\(overview.suffix(2500))")

        stack.stopTrunk()
        var html = ""
        let shown = try await eventually(timeout: .seconds(40), every: .milliseconds(500)) {
            html = try await page()
            return html.contains(probe("down")) && html.contains("<td>TrunkDown</td>")
        }
        #expect(shown, "\(html.prefix(3000))")
        // The overview names the firing alert too (not the always-firing dead-man's switch).
        overview = try await client.send(HTTPClientRequest(url: api.base + "/admin", headers: [("Cookie", cookie)])).text
        let firing = overview.firstMatch(of: /<ul id="firing"[^>]*>(.*?)<\/ul>/.dotMatchesNewlines()).map { String($0.1) } ?? ""
        #expect(firing.contains("<strong>TrunkDown</strong> since") && !firing.contains("<strong>Watchdog</strong>"), "\(overview.prefix(1500))")
        let id = try #require(html.firstMatch(of: /<tr data-alert="([0-9a-f]+)">\s*<td>TrunkDown<\/td>/).map { String($0.1) })
        let csrf = try #require(html.firstMatch(of: /name="csrf" value="([^"]+)"/).map { String($0.1) })
        func post(_ path: String) async throws -> Int {
            try await client.send(HTTPClientRequest(method: "POST", url: api.base + path,
                headers: [("Content-Type", "application/x-www-form-urlencoded"), ("Cookie", cookie)], body: Array("id=\(id)&csrf=\(csrf)".utf8))).status
        }
        #expect(try await post("/admin/alerts/ack") == 303)
        let database = PostgresPool(configuration: PostgresConfiguration(url: try PostgresURL(parsing: stack.database), poolSize: 1))
        let acked = try await database.query("SELECT acked_by FROM page_acks WHERE fingerprint = $1", [id])
        #expect(try acked.first?.decode("acked_by", as: String.self).hasPrefix("admin") == true)
        await database.close()
        #expect(try await post("/admin/alerts/silence") == 303)
        let silenced = try await eventually(timeout: .seconds(20), every: .milliseconds(500)) {
            try await page().contains(try Regex(#"<tr data-alert="\#(id)">\s*<td>TrunkDown</td><td>silenced</td>"#))
        }
        #expect(silenced)
    }
}
