import Foundation
import PostgresClient

/// What Redial tells every site owner (a new feature, planned maintenance): shown in the
/// cabinet from `startsAt` until `endsAt`.
public struct Announcements: Sendable {
    public struct Announcement: Sendable, Equatable {
        public let id: Int
        public let title: String
        public let body: String
    }

    let database: PostgresPool

    public init(database: PostgresPool) {
        self.database = database
    }

    /// Adds one; every problem named.
    public func add(title: String, body: String, startsAt: Date? = nil, endsAt: Date? = nil) async throws -> Int {
        var problems: [String] = []
        if !(1...120).contains(title.trimmingCharacters(in: .whitespaces).count) { problems.append("title: expected 1-120 characters") }
        if !(1...2000).contains(body.trimmingCharacters(in: .whitespaces).count) { problems.append("body: expected 1-2000 characters") }
        if let endsAt, endsAt <= (startsAt ?? Date()) { problems.append("until: must be after it starts") }
        if !problems.isEmpty { throw DomainError(.invalid, problems.joined(separator: "; "), field: "announcement") }
        return try await database.query("""
            INSERT INTO announcements (title, body, starts_at, ends_at) VALUES ($1, $2, coalesce(to_timestamp($3), now()), to_timestamp($4))
            RETURNING id::int AS id
            """, [title, body, startsAt?.timeIntervalSince1970, endsAt?.timeIntervalSince1970])[0].decode("id")
    }

    /// The ones showing now, newest first.
    public func current() async throws -> [Announcement] {
        try await database.query("""
            SELECT id::int AS id, title, body FROM announcements
            WHERE starts_at <= now() AND (ends_at IS NULL OR ends_at > now()) ORDER BY starts_at DESC, id DESC LIMIT 10
            """).map { Announcement(id: try $0.decode("id"), title: try $0.decode("title"), body: try $0.decode("body")) }
    }
}
