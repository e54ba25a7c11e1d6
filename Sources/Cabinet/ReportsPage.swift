import Domain
import Foundation
import Hummingbird

/// The daily and weekly reports in the cabinet: the same figures the report e-mails carry
/// (`SiteReport`), for the last seven days and the last four weeks in the site's own calendar,
/// today and this week so far included; each period's CSV is the e-mail's attachment.
extension CabinetRoutes {
    func reportsPage(_ site: Site, _ session: OwnerSessions.Session) async throws -> Response {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = site.timeZone
        calendar.firstWeekday = 2
        let today = calendar.startOfDay(for: Date())
        let monday = calendar.dateInterval(of: .weekOfYear, for: today)?.start ?? today
        func day(_ date: Date, _ offset: Int) -> Date { calendar.date(byAdding: .day, value: offset, to: date)! }
        func row(_ from: Date, _ to: Date, _ label: String) async throws -> [String: Any]? {
            let (start, end) = (Self.date(from, calendar), Self.date(to, calendar))
            guard let report = try await SiteReport.make(database: database, protection: protection, siteID: site.id, from: start, to: end,
                                                         rows: false) else { return nil }
            return ["label": label, "callbacks": report.callbacks, "completed": report.completed, "failed": report.failed,
                    "answered": report.answeredRate.map { String(format: "%.0f%%", $0 * 100) } ?? "—",
                    "median": report.medianSecondsToFirstRing.map { String(format: "%.1f s", $0) } ?? "—",
                    "minutes": report.minutesUsed, "csv": "/cabinet/sites/\(site.id)/report.csv?from=\(start)&to=\(end)"]
        }
        var daily: [[String: Any]] = []
        for offset in 0..<7 {
            let from = day(today, -offset)
            let label = offset == 0 ? "today so far" : offset == 1 ? "yesterday" : Self.date(from, calendar)
            if let value = try await row(from, day(from, 1), label) { daily.append(value) }
        }
        var weekly: [[String: Any]] = []
        for offset in 0..<5 {
            let from = day(monday, -7 * offset)
            let label = offset == 0 ? "this week so far" : "week of \(Self.date(from, calendar))"
            if let value = try await row(from, day(from, 7), label) { weekly.append(value) }
        }
        return render("reports", title: "Reports · \(site.name)", csrf: session.csrf,
                      values: ["id": site.id, "name": site.name, "timezone": site.timeZone.identifier, "daily": daily, "weekly": weekly,
                               "email": site.email as Any])
    }

    /// A period's callbacks as CSV (`from` to `to`, local dates, `to` exclusive; at most 93 days).
    func reportCSV(_ site: Site, _ request: Request) async throws -> Response {
        let from = request.uri.queryParameters.get("from") ?? "", to = request.uri.queryParameters.get("to") ?? ""
        let format = DateFormatter()
        format.locale = Locale(identifier: "en_US_POSIX")
        format.timeZone = TimeZone(identifier: "UTC")
        format.dateFormat = "yyyy-MM-dd"
        guard let start = format.date(from: from), let end = format.date(from: to), format.string(from: start) == from, format.string(from: end) == to,
              end > start, end.timeIntervalSince(start) <= 93 * 86_400 else {
            return Self.plain(.badRequest, "expected from and to as YYYY-MM-DD, from before to, at most 93 days apart")
        }
        guard let report = try await SiteReport.make(database: database, protection: protection, siteID: site.id, from: from, to: to) else {
            return Self.plain(.notFound, "no such site")
        }
        return Response(status: .ok, headers: [
            .contentType: "text/csv; charset=utf-8", .cacheControl: "private, no-store",
            .contentDisposition: "attachment; filename=\"redial-\(from)-\(to).csv\"",
        ], body: .init(byteBuffer: ByteBuffer(string: report.csv)))
    }

    static func date(_ date: Date, _ calendar: Calendar) -> String {
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
    }
}
