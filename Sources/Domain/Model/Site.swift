import Foundation

/// A customer site: who to ring, when, and what it may still spend.
public struct Site: Sendable {
    public let id: String
    public let name: String
    /// Manager phones (E.164), in ring order.
    public let managers: [String]
    public let timeZone: TimeZone
    public let hours: WorkingHours
    public let balanceMinutes: Int
    public let email: String?
    public let language: String
    public let defaultCountryCode: String?
    /// Calling codes served; empty: every country not denied.
    public let servedCountryCodes: [String]
    public let limits: IntakeLimits
    public let active: Bool
    public let ownerPhone: String?
    /// Balance levels (minutes) whose crossing warns the owner.
    public let lowBalanceThresholds: [Int]
    public let recordingRetentionDays: Int
    /// Origins the widget runs on; empty: any (see `SiteStore.NewSite.allowedOrigins`).
    public let allowedOrigins: [String]
    public var widget = WidgetSettings()
    public var notifications = NotificationSettings()

    /// An origin as browsers send it (`scheme://host[:port]`, lower case, no path), or nil.
    public static func origin(_ text: String) -> String? {
        let lower = text.lowercased()
        guard let separator = lower.firstRange(of: "://"), ["http", "https"].contains(String(lower[..<separator.lowerBound])) else { return nil }
        var rest = lower[separator.upperBound...]
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        guard !rest.isEmpty, rest.allSatisfy({ $0.isLetter || $0.isNumber || ".-:[]".contains($0) }) else { return nil }
        return String(lower[..<separator.upperBound] + rest)
    }

    /// Whether a request from `origin` (its `Origin` header) may use this site's key.
    public func allows(origin: String?) -> Bool {
        guard !allowedOrigins.isEmpty else { return true }
        guard let origin, let normalized = Site.origin(origin) else { return false }
        return allowedOrigins.contains(normalized)
    }
}

/// Abuse limits of one site, modelled on Oracle Click2Call's published thresholds: a public
/// callback form is a toll-fraud target (forms submitted en masse to premium numbers).
public struct IntakeLimits: Sendable, Hashable, Codable {
    public var numberPer15Minutes = 7
    public var numberPerHour = 9
    public var numberPerDay = 15
    public var clientNumbersPerHour = 3
    public var clientNumbersPerDay = 4
    public var sitePerMinute = 60
    public var sitePerDay = 2000

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case numberPer15Minutes = "number_per_15_minutes", numberPerHour = "number_per_hour", numberPerDay = "number_per_day"
        case clientNumbersPerHour = "client_numbers_per_hour", clientNumbersPerDay = "client_numbers_per_day"
        case sitePerMinute = "site_per_minute", sitePerDay = "site_per_day"
    }

    /// Defaults overridden by whichever fields the JSON object sets.
    public init(overrides: [String: Int]) throws(DomainError) {
        self.init()
        for (key, value) in overrides {
            guard let field = CodingKeys(rawValue: key) else {
                throw DomainError(.invalid, "limits: unknown field '\(key)' (known: \(CodingKeys.allCases.map(\.rawValue).joined(separator: ", ")))",
                                  field: "limits")
            }
            guard (1...1_000_000).contains(value) else {
                throw DomainError(.invalid, "limits.\(key): expected 1-1000000, got \(value)", field: "limits")
            }
            switch field {
            case .numberPer15Minutes: numberPer15Minutes = value
            case .numberPerHour: numberPerHour = value
            case .numberPerDay: numberPerDay = value
            case .clientNumbersPerHour: clientNumbersPerHour = value
            case .clientNumbersPerDay: clientNumbersPerDay = value
            case .sitePerMinute: sitePerMinute = value
            case .sitePerDay: sitePerDay = value
            }
        }
    }
}
