import CryptoPrimitives
import Domain
import Foundation
import LocalServices
import PostgresClient
import Queue
import RedisClient
import Testing
import TestSupport

/// Reports end to end: a site's callbacks are dialled by a real cluster, then its daily report is
/// emailed through the real SMTP server; every number in it is checked against PostgreSQL, and
/// the CSV attachment lists each callback. The hourly planner queues daily and (Mondays) weekly
/// reports at 07:00 in each site's zone. Part of the serialized dial suite.
extension DialFlowTests {
    /// The attachment of a raw email, decoded (base64 parts after a `filename=` header).
    static func attachment(_ email: String) -> String? {
        let text = email.replacingOccurrences(of: "\r", with: "")
        guard let start = text.range(of: "filename=") else { return nil }
        let rest = text[start.upperBound...]
        guard let body = rest.range(of: "\n\n") else { return nil }
        let encoded = rest[body.upperBound...].split(separator: "\n").prefix { !$0.hasPrefix("--") && !$0.isEmpty }.joined()
        return Data(base64Encoded: encoded).map { String(decoding: $0, as: UTF8.self) }
    }

    @Test func theDailyReportMatchesTheDatabase() async throws {
        let mail = try await MailSink()
        defer { mail.stop() }
        let cluster = try await Cluster(workers: 2, smtpURL: mail.url)
        defer { cluster.stop() }
        let address = "report-\(UInt32.random(in: 0...UInt32.max))@shop.test"
        let (siteID, key) = try await site(balance: 50, zone: "Asia/Yekaterinburg", email: address)
        var ids: [String] = []
        for digit in [0, 0, 4, 7, 2] { ids.append(try await request(cluster, key: key, phone: number(digit))) }
        try await waitTerminal(ids)

        // The site's local day, as PostgreSQL sees it.
        let today = try await database.query("SELECT to_char(now() AT TIME ZONE 'Asia/Yekaterinburg', 'YYYY-MM-DD') AS d")[0].decode("d", as: String.self)
        let tomorrow = try await database.query("SELECT to_char(now() AT TIME ZONE 'Asia/Yekaterinburg' + interval '1 day', 'YYYY-MM-DD') AS d")[0].decode("d", as: String.self)
        let payload = #"{"site_id": "\#(siteID)", "period": "daily", "from": "\#(today)", "to": "\#(tomorrow)"}"#
        for _ in 0..<2 {  // the second is a replay (no dedup key): the effect ledger sends nothing twice
            let run = try await RedialBinary.run(["enqueue", "--type", "report.email", "--payload", payload], environment: cluster.environment)
            #expect(run.status == 0, "\(run.output)")
            try await waitForJob(queue: "reports", id: run.output.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let reports = try mail.messages().filter { $0.contains("To: \(address)") && $0.contains("callbacks-daily-") }
        #expect(reports.count == 1)
        let email = try #require(reports.first)
        let html = Self.decodedParts(email)

        // The figures, computed here from the tables with SQL of the test's own.
        let expected = try await database.query("""
            SELECT count(*)::int AS n, count(*) FILTER (WHERE status = 'completed')::int AS ok, count(*) FILTER (WHERE status = 'failed')::int AS bad,
                   coalesce(sum(minutes_debited), 0)::int AS minutes, (SELECT balance_minutes FROM sites WHERE id = $1::uuid) AS balance
            FROM callbacks WHERE id = ANY(ARRAY(SELECT jsonb_array_elements_text($2::jsonb)::uuid))
            """, [siteID, "[\"" + ids.joined(separator: "\",\"") + "\"]"])[0]
        let firstRings = try await database.query("""
            SELECT extract(epoch FROM min(a.started_at) - c.created_at)::float8 AS s FROM callbacks c JOIN attempts a ON a.callback_id = c.id
            WHERE c.site_id = $1::uuid GROUP BY c.id, c.created_at ORDER BY 1
            """, [siteID]).map { try $0.decode("s", as: Double.self) }
        let (n, ok, bad, minutes, balance): (Int, Int, Int, Int, Int) = (try expected.decode("n"), try expected.decode("ok"), try expected.decode("bad"),
                                                                      try expected.decode("minutes"), try expected.decode("balance"))
        #expect(n == 5 && ok == 3 && bad == 2 && minutes == 3 && balance == 47)
        let median = firstRings.count % 2 == 1 ? firstRings[firstRings.count / 2]
            : (firstRings[firstRings.count / 2 - 1] + firstRings[firstRings.count / 2]) / 2
        for (id, value) in [("callbacks", "\(n)"), ("completed", "\(ok)"), ("failed", "\(bad)"),
                            ("answered_rate", String(format: "%.1f%%", Double(ok) / Double(ok + bad) * 100)),
                            ("median_first_ring", String(format: "%.1f s", median)), ("minutes_used", "\(minutes)"), ("balance", "\(balance)")] {
            #expect(html.contains("id=\"\(id)\">\(value)</td>"), "report shows \(id) = \(value)")
        }
        let csv = try #require(Self.attachment(email)).split(separator: "\r\n").map(String.init)
        #expect(csv.first == "callback_id,created_at,phone,status,reason,attempts,first_ring_at,minutes")
        #expect(Set(csv.dropFirst().map { String($0.prefix(36)) }) == Set(ids))
        #expect(csv.contains { $0.hasPrefix(ids[3]) && $0.contains(",failed,invalid_number,1,") })
        #expect(try await database.query("SELECT status FROM deliveries WHERE effect_key = $1",
                                         ["report:daily:\(siteID):\(today)"]).first?.decode("status", as: String.self) == "sent")

        // The planner at 07:30 local on a Monday queues yesterday's daily and last week's weekly report.
        let plan = try await RedialBinary.run(["enqueue", "--type", "report.plan", "--payload", #"{"tick": "2026-11-23T02:30:00Z"}"#],
                                              environment: cluster.environment)
        #expect(plan.status == 0, "\(plan.output)")
        #expect(try await eventually(timeout: .seconds(30)) {
            let names = try mail.messages().filter { $0.contains("To: \(address)") && $0.contains("filename=\"callbacks-") }.map { $0.contains("callbacks-weekly-2026-11-16.csv") ? "weekly" : $0.contains("callbacks-daily-2026-11-22.csv") ? "daily" : "today" }
            return names.sorted() == ["daily", "today", "weekly"]
        })
    }

    /// The hourly plan honours each owner's choice: on a Monday at 07:00 in the site's zone, a
    /// site that turned the daily report off gets only the weekly one, and one that turned the
    /// weekly off only the daily.
    @Test func thePlanQueuesOnlyTheReportsAnOwnerWants() async throws {
        // Its own mail sink, and it waits for the reports it queued: jobs left in the shared
        // queue would mail a later test's sink.
        let mail = try await MailSink()
        defer { mail.stop() }
        let cluster = try await Cluster(workers: 1, smtpURL: mail.url)
        defer { cluster.stop() }
        let store = SiteStore(database: database, protection: .development)
        let zone = "Asia/Kathmandu"  // UTC+05:45, no other test's zone
        try await database.query("UPDATE sites SET active = false WHERE timezone = $1", [zone])  // an earlier run's sites
        let (weeklyOnly, _) = try await site(zone: zone, email: "weekly@plan.test")
        let (dailyOnly, _) = try await site(zone: zone, email: "daily@plan.test")
        var noDaily = NotificationSettings()
        noDaily.dailyReport = false
        var noWeekly = NotificationSettings()
        noWeekly.weeklyReport = false
        #expect(try await store.setNotifications(id: weeklyOnly, ownerPhone: nil, lowBalanceThresholds: [10], noDaily))
        #expect(try await store.setNotifications(id: dailyOnly, ownerPhone: nil, lowBalanceThresholds: [10], noWeekly))
        // Monday 2026-11-30 07:15 in Kathmandu.
        let run = try await RedialBinary.run(["enqueue", "--type", "report.plan", "--payload", #"{"tick": "2026-11-30T01:30:00Z"}"#],
                                             environment: cluster.environment)
        #expect(run.status == 0, "\(run.output)")
        try await waitForJob(queue: "reports", id: run.output.trimmingCharacters(in: .whitespacesAndNewlines))
        // The plan queues its reports in one batch before it completes.
        let redis = try await TestServices.redis(poolSize: 1)
        defer { Task { await redis.close() } }
        func queued(_ period: String, _ site: String, _ from: String) async throws -> Bool {
            try await redis.send("GET", Keys(queue: "reports").dedup("report:\(period):\(site):\(from)")).string != nil
        }
        let (weekly1, daily1) = (try await queued("weekly", weeklyOnly, "2026-11-23"), try await queued("daily", weeklyOnly, "2026-11-29"))
        let (weekly2, daily2) = (try await queued("weekly", dailyOnly, "2026-11-23"), try await queued("daily", dailyOnly, "2026-11-29"))
        #expect(weekly1 && !daily1, "daily off: the weekly report only")
        #expect(daily2 && !weekly2, "weekly off: the daily report only")
        try await waitForJob(queue: "reports", dedupKey: "report:weekly:\(weeklyOnly):2026-11-23")
        try await waitForJob(queue: "reports", dedupKey: "report:daily:\(dailyOnly):2026-11-29")
        #expect(try mail.messages().count == 2)
        try await database.query("UPDATE sites SET active = false WHERE timezone = $1", [zone])
    }
}
