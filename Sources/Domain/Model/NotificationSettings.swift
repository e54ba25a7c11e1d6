import Foundation

/// What a site's owner chose to be told, and how: each notification event (the triggers of
/// `Jobs/notify.sms/triggers.json`) by SMS and by e-mail, and the daily and weekly reports.
/// Kept as what is turned off, so everything is on for a new site and an event added later is
/// on until its owner turns it off.
public struct NotificationSettings: Sendable, Hashable, Codable {
    /// The events an owner can turn on and off, and whether each also goes by e-mail;
    /// `JobsTests` holds them equal to the triggers file.
    public static let events: [(name: String, byEmail: Bool)] = [("callback_failed", true), ("after_hours", false), ("low_balance", true)]

    public var smsOff: Set<String> = []
    public var emailOff: Set<String> = []
    public var dailyReport = true
    public var weeklyReport = true

    public init() {}

    public func sms(_ event: String) -> Bool { !smsOff.contains(event) }
    public func email(_ event: String) -> Bool { !emailOff.contains(event) }

    enum CodingKeys: String, CodingKey {
        case smsOff = "sms_off", emailOff = "email_off", dailyReport = "daily_report", weeklyReport = "weekly_report"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        smsOff = try container.decodeIfPresent(Set<String>.self, forKey: .smsOff) ?? []
        emailOff = try container.decodeIfPresent(Set<String>.self, forKey: .emailOff) ?? []
        dailyReport = try container.decodeIfPresent(Bool.self, forKey: .dailyReport) ?? true
        weeklyReport = try container.decodeIfPresent(Bool.self, forKey: .weeklyReport) ?? true
    }

    public func validate() throws(DomainError) {
        let names = Self.events.map(\.name)
        let unknown = smsOff.union(emailOff).subtracting(names)
        guard unknown.isEmpty else {
            throw DomainError(.invalid, "notifications: unknown event '\(unknown.sorted()[0].prefix(40))' (known: \(names.joined(separator: ", ")))",
                              field: "notifications")
        }
    }
}
