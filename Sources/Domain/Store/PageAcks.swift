import PostgresClient

/// Acknowledgements of alerts (`page_acks`): someone took the alert in hand, so the pager sends
/// no more pages for it in this incident (its resolution still goes out).
public struct PageAcks: Sendable {
    public let database: PostgresPool

    public init(database: PostgresPool) { self.database = database }

    public func acknowledge(fingerprint: String, by author: String) async throws {
        try await database.query("INSERT INTO page_acks (fingerprint, acked_by) VALUES ($1, $2)", [fingerprint, author])
    }
}
