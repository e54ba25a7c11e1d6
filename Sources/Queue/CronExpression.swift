import Foundation

/// A cron schedule: five fields (minute hour day-of-month month day-of-week) or six with
/// seconds first. Each field takes `*`, `n`, `a-b`, lists `a,b` and steps `*/n`, `a-b/n`;
/// months and weekdays also by name (JAN, MON); weekday 0 and 7 are Sunday. When both day
/// fields are restricted, a day matching either runs (as in Vixie cron).
public struct CronExpression: Sendable, Equatable, CustomStringConvertible {
    let seconds: Set<Int>
    let minutes: Set<Int>
    let hours: Set<Int>
    let days: Set<Int>
    let months: Set<Int>
    let weekdays: Set<Int>
    let daysRestricted: Bool
    let weekdaysRestricted: Bool
    public let description: String

    public struct ParseError: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    public init(_ text: String) throws(ParseError) {
        let fields = text.split(whereSeparator: \.isWhitespace).map(String.init)
        guard fields.count == 5 || fields.count == 6 else {
            throw ParseError(description: "expected 5 fields (minute hour day month weekday) or 6 (seconds first), got \(fields.count) in '\(text)'")
        }
        let all = fields.count == 6 ? fields : ["0"] + fields
        seconds = try Self.field(all[0], "second", 0...59)
        minutes = try Self.field(all[1], "minute", 0...59)
        hours = try Self.field(all[2], "hour", 0...23)
        days = try Self.field(all[3], "day of month", 1...31)
        months = try Self.field(all[4], "month", 1...12, names: ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], firstName: 1)
        weekdays = Set(try Self.field(all[5], "weekday", 0...7, names: ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], firstName: 0).map { $0 % 7 })
        daysRestricted = all[3] != "*"
        weekdaysRestricted = all[5] != "*"
        description = text
    }

    static func field(_ text: String, _ name: String, _ range: ClosedRange<Int>, names: [String] = [],
                      firstName: Int = 0) throws(ParseError) -> Set<Int> {
        func value(_ part: Substring) throws(ParseError) -> Int {
            if let index = names.firstIndex(of: part.uppercased()) { return index + firstName }
            guard let number = Int(part), range.contains(number) else {
                throw ParseError(description: "\(name): expected \(range.lowerBound)-\(range.upperBound)\(names.isEmpty ? "" : " or a name"), got '\(part)' in '\(text)'")
            }
            return number
        }
        var result: Set<Int> = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let stepParts = item.split(separator: "/", omittingEmptySubsequences: false)
            guard stepParts.count <= 2 else { throw ParseError(description: "\(name): '\(item)' has more than one step") }
            var step = 1
            if stepParts.count == 2 {
                guard let parsed = Int(stepParts[1]), parsed > 0 else { throw ParseError(description: "\(name): step '\(stepParts[1])' must be a positive number") }
                step = parsed
            }
            let base = stepParts[0]
            let bounds: ClosedRange<Int>
            if base == "*" {
                bounds = range
            } else if let dash = base.firstIndex(of: "-") {
                let low = try value(base[..<dash]), high = try value(base[base.index(after: dash)...])
                guard low <= high else { throw ParseError(description: "\(name): range '\(base)' runs backwards") }
                bounds = low...high
            } else {
                let single = try value(base)
                bounds = stepParts.count == 2 ? single...range.upperBound : single...single
            }
            result.formUnion(stride(from: bounds.lowerBound, through: bounds.upperBound, by: step))
        }
        return result
    }

    /// The first matching second strictly after `date`, in `zone`; nil if none within 5 years.
    public func next(after date: Date, in zone: TimeZone) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        var time = Date(timeIntervalSince1970: (date.timeIntervalSince1970 + 1).rounded(.down))
        let limit = date.addingTimeInterval(5 * 366 * 86_400)
        while time < limit {
            let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday], from: time)
            guard let month = parts.month, let day = parts.day, let hour = parts.hour, let minute = parts.minute,
                  let second = parts.second, let weekday = parts.weekday else { return nil }
            if !months.contains(month) {
                guard let next = calendar.date(from: DateComponents(year: parts.year, month: month + 1, day: 1)) else { return nil }
                time = next
                continue
            }
            let dayMatches = daysRestricted && weekdaysRestricted
                ? days.contains(day) || weekdays.contains(weekday - 1)
                : days.contains(day) && weekdays.contains(weekday - 1)
            if !dayMatches {
                guard let next = calendar.date(byAdding: .day, value: 1, to: calendar.startOfDay(for: time)) else { return nil }
                time = next
                continue
            }
            if !hours.contains(hour) {
                time = Date(timeIntervalSince1970: (time.timeIntervalSince1970 / 3600).rounded(.down) * 3600 + 3600)
                continue
            }
            if !minutes.contains(minute) {
                time = Date(timeIntervalSince1970: (time.timeIntervalSince1970 / 60).rounded(.down) * 60 + 60)
                continue
            }
            if !seconds.contains(second) {
                time = time.addingTimeInterval(1)
                continue
            }
            return time
        }
        return nil
    }
}
