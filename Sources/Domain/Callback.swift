import Foundation

/// Where a callback is in its life. Active statuses hold the site's one-per-phone slot.
public enum CallbackStatus: String, Sendable, Codable, CaseIterable {
    case queued, scheduled, dialing
    case retryWait = "retry_wait"
    case completed, failed, canceled

    public var isActive: Bool { [.queued, .scheduled, .dialing, .retryWait].contains(self) }
}

public struct Callback: Sendable {
    public let id: String
    public let siteID: String
    public let phone: String
    public let name: String?
    public let pageURL: String?
    public let callAt: Date?
    public let status: CallbackStatus
    public let reason: String?
    public let createdAt: Date
}

public struct Attempt: Sendable, Codable, Equatable {
    public let n: Int
    public let outcome: String?
    public let startedAt: Date
    public let endedAt: Date?
}
