import Foundation

/// A job enqueued on a cron schedule (declared in `Jobs/schedules.json`).
public struct PeriodicSchedule: Sendable {
    /// What happens to ticks that passed while no worker was running.
    public enum CatchUp: String, Sendable, CaseIterable {
        /// Every missed tick runs (at most `PeriodicScheduler.maximumCatchUp`, the latest ones).
        case all
        /// Only the most recent missed tick runs.
        case latest
        /// Missed ticks are skipped; the next tick runs.
        case none
    }

    public let name: String
    public let cron: CronExpression
    public let timeZone: TimeZone
    public let type: String
    /// JSON object text; the scheduler adds `"tick"` (the tick's time, RFC 3339).
    public let payload: [String: String]
    /// The job type's policy (its queue may be overridden by the schedule).
    public let policy: JobPolicy
    public let catchUp: CatchUp

    public init(name: String, cron: CronExpression, timeZone: TimeZone, type: String, payload: [String: String], policy: JobPolicy,
                catchUp: CatchUp) {
        self.name = name
        self.cron = cron
        self.timeZone = timeZone
        self.type = type
        self.payload = payload
        self.policy = policy
        self.catchUp = catchUp
    }

    /// Ticks in (after, through], oldest first, at most `limit` (the latest ones).
    func ticks(after: Date, through: Date, limit: Int) -> [Date] {
        var ticks: [Date] = []
        var cursor = after
        while let next = cron.next(after: cursor, in: timeZone), next <= through {
            ticks.append(next)
            if ticks.count >= 2 * limit { ticks.removeFirst(ticks.count - limit) }  // amortized: not one shift per tick
            cursor = next
        }
        return Array(ticks.suffix(limit))
    }

    /// The latest tick at or before `date` (nil if there is none within a year).
    func latestTick(atOrBefore date: Date) -> Date? {
        let start = date.addingTimeInterval(-366 * 86_400)
        var found: Date?
        // Walk back in growing windows so a frequent schedule does not iterate a year of ticks.
        for window in [2.0, 120, 7_200, 172_800, 3_000_000, 31_622_400] {
            let from = max(start, date.addingTimeInterval(-window))
            found = ticks(after: from.addingTimeInterval(-1), through: date, limit: 1).last
            if found != nil { break }
        }
        return found
    }
}
