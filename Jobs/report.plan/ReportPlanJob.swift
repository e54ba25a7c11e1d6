import Domain
import Foundation
import Queue

/// `report.plan` (`{"tick": RFC 3339}`, from the hourly schedule): for every site with an email
/// address whose local time at the tick is 07:xx, queues yesterday's daily report and, on a
/// Monday, last week's (each only if its owner has not turned it off). Each report's dedup key is its effect key, so a replayed or caught-up
/// tick queues nothing twice.
struct ReportPlanJob: ServiceJob {
    let services: JobServices
    static let hour = 7
    static var policyFile: [UInt8] { PackageResources.report_plan_policy_json }

    struct Args: JobArgs {
        static let jobType = "report.plan"
        let tick: String
    }

    func work(_ args: Args, job: Job) async throws -> JobOutcome {
        let text = args.tick
        guard let tick = ISO8601DateFormatter().date(from: text) else { throw PermanentJobError("tick '\(text)' is not an RFC 3339 time") }
        var requests: [JobQueue.Request] = []
        for (siteID, zone, wants) in try await SiteReport.recipients(database: services.flow.database) {
            for period in Self.periods(at: tick, in: zone) where period.name == "daily" ? wants.dailyReport : wants.weeklyReport {
                let report = ReportEmailJob.Args(site_id: siteID, period: period.name, from: period.from, to: period.to)
                requests.append(try JobQueue.Request(report, policies: services.policies, dedupKey: report.effectKey))
            }
        }
        if !requests.isEmpty { _ = try await services.jobs.enqueue(batch: requests) }
        return .completed
    }

    /// The reports due at `tick` for a site in `zone`: none unless it is 07:xx there.
    static func periods(at tick: Date, in zone: TimeZone) -> [(name: String, from: String, to: String)] {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        guard calendar.component(.hour, from: tick) == hour else { return [] }
        let today = calendar.startOfDay(for: tick)
        let format = DateFormatter()
        format.calendar = calendar
        format.timeZone = zone
        format.locale = Locale(identifier: "en_US_POSIX")
        format.dateFormat = "yyyy-MM-dd"
        func day(_ offset: Int) -> String { format.string(from: calendar.date(byAdding: .day, value: offset, to: today)!) }
        var periods = [(name: "daily", from: day(-1), to: day(0))]
        if calendar.component(.weekday, from: tick) == 2 { periods.append((name: "weekly", from: day(-7), to: day(0))) }  // Monday
        return periods
    }
}
