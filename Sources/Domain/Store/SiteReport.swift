import CryptoPrimitives
import Foundation
import PostgresClient

/// A site's figures over a period of its own calendar days: what the daily and weekly report
/// emails show, computed from PostgreSQL (callbacks created in the period).
public struct SiteReport: Sendable, Equatable {
    public let siteID: String
    public let siteName: String
    public let language: String
    public let email: String?
    /// Local dates, `to` exclusive.
    public let from: String
    public let to: String
    public let callbacks: Int
    public let completed: Int
    public let failed: Int
    /// Completed ÷ (completed + failed); nil when none ended.
    public let answeredRate: Double?
    /// Median seconds from the request to the first ring; nil when nothing was rung.
    public let medianSecondsToFirstRing: Double?
    public let minutesUsed: Int
    /// The balance when the report was made.
    public let balanceMinutes: Int
    public let rows: [Row]

    /// One callback of the period (the CSV attachment).
    public struct Row: Sendable, Equatable {
        public let id: String
        public let createdAt: String
        public let phone: String
        public let status: String
        public let reason: String?
        public let attempts: Int
        public let firstRingAt: String?
        public let minutes: Int
    }

    /// The report of `siteID` for local dates [from, to) (`YYYY-MM-DD`, in the site's zone).
    /// The CSV's numbers are opened with `protection` (the report goes to the site's owner);
    /// without `rows`, only the figures.
    public static func make(database: PostgresPool, protection: DataProtection, siteID: String, from: String,
                            to: String, rows withRows: Bool = true) async throws -> SiteReport? {
        guard UUIDText.isValid(siteID) else { return nil }
        guard let site = try await database.query("""
            SELECT name, language, email, balance_minutes, timezone FROM sites WHERE id = $1::uuid
            """, [siteID]).first else { return nil }
        let zone: String = try site.decode("timezone")
        // Period bounds are the site's local midnights, converted by PostgreSQL (DST-correct).
        let window = "c.site_id = $1::uuid AND c.created_at >= ($2::date::timestamp AT TIME ZONE $4) AND c.created_at < ($3::date::timestamp AT TIME ZONE $4)"
        let summary = try await database.query("""
            SELECT count(*)::int AS callbacks,
                   count(*) FILTER (WHERE c.status = 'completed')::int AS completed,
                   count(*) FILTER (WHERE c.status = 'failed')::int AS failed,
                   coalesce(sum(c.minutes_debited), 0)::int AS minutes,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM f.first_ring - c.created_at))::float8 AS median
            FROM callbacks c LEFT JOIN LATERAL (SELECT min(started_at) AS first_ring FROM attempts a WHERE a.callback_id = c.id) f ON true
            WHERE \(window)
            """, [siteID, from, to, zone])[0]
        let rows = !withRows ? [] : try await database.query("""
            SELECT c.id::text AS id, to_char(c.created_at AT TIME ZONE $4, 'YYYY-MM-DD HH24:MI:SS') AS created, c.phone, c.status, c.reason,
                   (SELECT count(*) FROM attempts a WHERE a.callback_id = c.id)::int AS attempts,
                   to_char((SELECT min(started_at) FROM attempts a WHERE a.callback_id = c.id) AT TIME ZONE $4, 'YYYY-MM-DD HH24:MI:SS') AS first_ring,
                   coalesce(c.minutes_debited, 0) AS minutes
            FROM callbacks c WHERE \(window) ORDER BY c.created_at, c.id
            """, [siteID, from, to, zone]).map {
            Row(id: try $0.decode("id"), createdAt: try $0.decode("created"), phone: try protection.open(try $0.decode("phone"), .callbackPhone), status: try $0.decode("status"),
                reason: try $0.decodeIfPresent("reason"), attempts: try $0.decode("attempts"), firstRingAt: try $0.decodeIfPresent("first_ring"),
                minutes: try $0.decode("minutes"))
        }
        let completed: Int = try summary.decode("completed")
        let failed: Int = try summary.decode("failed")
        return SiteReport(siteID: siteID, siteName: try site.decode("name"), language: try site.decode("language"),
                          email: try site.decodeIfPresent("email"), from: from, to: to, callbacks: try summary.decode("callbacks"),
                          completed: completed, failed: failed,
                          answeredRate: completed + failed == 0 ? nil : Double(completed) / Double(completed + failed),
                          medianSecondsToFirstRing: try summary.decodeIfPresent("median"), minutesUsed: try summary.decode("minutes"),
                          balanceMinutes: try site.decode("balance_minutes"), rows: rows)
    }

    /// The CSV attachment (RFC 4180: CRLF, fields quoted when they hold a comma, quote or break).
    public var csv: String {
        func field(_ text: String?) -> String {
            guard let text else { return "" }
            return text.contains(where: { ",\"\r\n".contains($0) }) ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
        }
        let header = "callback_id,created_at,phone,status,reason,attempts,first_ring_at,minutes"
        return ([header] + rows.map { row in
            [row.id, row.createdAt, row.phone, row.status, row.reason, String(row.attempts), row.firstRingAt, String(row.minutes)]
                .map(field).joined(separator: ",")
        }).joined(separator: "\r\n") + "\r\n"
    }

    /// Active sites with an address to send reports to, with their zones and which reports
    /// their owners want.
    public static func recipients(database: PostgresPool) async throws -> [(siteID: String, zone: TimeZone, wants: NotificationSettings)] {
        try await database.query("""
            SELECT id::text AS id, timezone, notifications::text AS notifications FROM sites WHERE active AND email IS NOT NULL ORDER BY id
            """).map {
            (try $0.decode("id"), TimeZone(identifier: try $0.decode("timezone")) ?? TimeZone(identifier: "UTC")!,
             try JSONText.decode(NotificationSettings.self, $0.decode("notifications")))
        }
    }
}
