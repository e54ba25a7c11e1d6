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

/// A callback's id as a job payload carries it: a UUID, or the payload does not decode (and the
/// job goes dead at once with that reason, instead of failing the same SQL cast on every retry).
public struct CallbackID: Sendable, Hashable, Codable, CustomStringConvertible {
    public let text: String

    public init(_ text: String) throws(DomainError) {
        guard let uuid = UUID(uuidString: text) else { throw DomainError(.invalid, "callback id '\(text.prefix(64))' is not a UUID") }
        self.text = uuid.uuidString.lowercased()
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let raw = try container.decode(String.self)
        do {
            try self.init(raw)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "'\(raw.prefix(64))' is not a UUID")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(text)
    }

    public var description: String { text }
}

/// Ids as PostgreSQL's `uuid` takes them.
enum UUIDText {
    /// 8-4-4-4-12 hex digits: checked before a query so a malformed id is a 404, not a SQL error.
    static func isValid(_ text: String) -> Bool {
        let groups = text.split(separator: "-", omittingEmptySubsequences: false)
        return groups.map(\.count) == [8, 4, 4, 4, 12] && groups.allSatisfy { $0.allSatisfy(\.isHexDigit) }
    }
}
