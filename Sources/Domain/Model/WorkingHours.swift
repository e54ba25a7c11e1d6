import Foundation

/// When a site takes calls: per ISO weekday (1 = Monday … 7 = Sunday) an opening and closing
/// time in the site's own time zone. A day that is missing is closed.
public struct WorkingHours: Sendable, Hashable, Codable {
    public struct Span: Sendable, Hashable, Codable {
        /// Minutes after midnight.
        public let open: Int
        public let close: Int
    }

    public let days: [Int: Span]

    public init(days: [Int: Span]) { self.days = days }

    // Stored as {"1": {"open": 540, "close": 1080}, …}: JSON object keys are strings.
    public init(from decoder: any Decoder) throws {
        let byName = try [String: Span](from: decoder)
        var days: [Int: Span] = [:]
        for (name, span) in byName {
            guard let day = Int(name), (1...7).contains(day), span.open < span.close, span.open >= 0, span.close <= 1440 else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "bad working hours for day '\(name)'"))
            }
            days[day] = span
        }
        self.days = days
    }

    public func encode(to encoder: any Encoder) throws {
        try Dictionary(uniqueKeysWithValues: days.map { (String($0.key), $0.value) }).encode(to: encoder)
    }

    /// Every day, all day.
    public static let always = WorkingHours(days: Dictionary(uniqueKeysWithValues: (1...7).map { ($0, Span(open: 0, close: 1440)) }))

    /// Parses `HH:MM-HH:MM` for the given ISO weekdays.
    public init(parsing text: String, days: [Int] = Array(1...7)) throws(DomainError) {
        let parts = text.split(separator: "-")
        guard parts.count == 2, let open = Self.minutes(parts[0]), let close = Self.minutes(parts[1]), open < close else {
            throw DomainError(.invalid, "hours: expected HH:MM-HH:MM with opening before closing, got '\(text)'", field: "hours")
        }
        guard !days.isEmpty, days.allSatisfy({ (1...7).contains($0) }) else {
            throw DomainError(.invalid, "days: expected ISO weekdays 1-7, got \(days)", field: "days")
        }
        self.days = Dictionary(days.map { ($0, Span(open: open, close: close)) }, uniquingKeysWith: { a, _ in a })
    }

    /// A day's span from `HH:MM` times as a form gives them; a closing time of 00:00 or 24:00
    /// is the end of the day.
    public static func span(open: String, close: String) throws(DomainError) -> Span {
        guard let start = minutes(Substring(open)), var end = minutes(Substring(close)) else {
            throw DomainError(.invalid, "hours: expected HH:MM times, got '\(open.prefix(8))' and '\(close.prefix(8))'", field: "hours")
        }
        if end == 0 { end = 1440 }
        guard start < end else {
            throw DomainError(.invalid, "hours: opening \(open) is not before closing \(close)", field: "hours")
        }
        return Span(open: start, close: end)
    }

    static func minutes(_ text: Substring) -> Int? {
        let parts = text.split(separator: ":")
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2,
              let hours = Int(parts[0]), let minutes = Int(parts[1]),
              (0...24).contains(hours), (0...59).contains(minutes), hours * 60 + minutes <= 1440 else { return nil }
        return hours * 60 + minutes
    }

    /// Whether the site is open at `date`.
    public func isOpen(at date: Date, in timeZone: TimeZone) -> Bool {
        let (weekday, minute) = Self.local(date, timeZone)
        guard let span = days[weekday] else { return false }
        return span.open <= minute && minute < span.close
    }

    /// The next instant at or after `date` when the site is open; nil if it never opens.
    public func nextOpening(after date: Date, in timeZone: TimeZone) -> Date? {
        if isOpen(at: date, in: timeZone) { return date }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let startOfDay = calendar.startOfDay(for: date)
        for offset in 0...7 {
            guard let day = calendar.date(byAdding: .day, value: offset, to: startOfDay) else { continue }
            let (weekday, _) = Self.local(day, timeZone)
            guard let span = days[weekday],
                  let opening = calendar.date(byAdding: .minute, value: span.open, to: day) else { continue }
            if opening >= date { return opening }
        }
        return nil
    }

    static func local(_ date: Date, _ timeZone: TimeZone) -> (weekday: Int, minute: Int) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.weekday, .hour, .minute], from: date)
        // Calendar weekdays: 1 = Sunday … 7 = Saturday; ISO: 1 = Monday … 7 = Sunday.
        let iso = ((parts.weekday ?? 1) + 5) % 7 + 1
        return (iso, (parts.hour ?? 0) * 60 + (parts.minute ?? 0))
    }
}
