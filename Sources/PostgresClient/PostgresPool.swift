import BlockingIO

/// A bounded set of `PostgresConnection`s. A connection is lent to one task at a time, so a
/// transaction's statements never interleave with another task's.
public final class PostgresPool: Sendable {
    public let configuration: PostgresConfiguration
    private let pool: ConnectionPool<PostgresConnection>

    public init(configuration: PostgresConfiguration) {
        self.configuration = configuration
        pool = ConnectionPool(
            capacity: configuration.poolSize,
            open: { PostgresConnection(configuration: configuration) },
            closedError: { PostgresError(.closed, "the PostgreSQL pool was closed") },
            acquireTimeout: configuration.acquireTimeout,
            timeoutError: { waited in
                PostgresError(.poolExhausted, "no connection to \(configuration.url) came free in \(waited): all \(configuration.poolSize) are busy or stuck")
            })
    }

    public func withConnection<T>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await pool.withConnection(body)
    }

    @discardableResult
    public func query(_ sql: String, _ parameters: [(any PostgresEncodable)?] = []) async throws -> [PostgresRow] {
        try await withConnection { try await $0.query(sql, parameters) }
    }

    /// Runs `body` inside BEGIN … COMMIT; any error rolls back and is rethrown, so a failed
    /// transaction leaves nothing behind (and never leaves the connection in state 25P02).
    public func transaction<T>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await withConnection { connection in
            try await connection.query("BEGIN")
            do {
                let result = try await body(connection)
                try await connection.query("COMMIT")
                return result
            } catch {
                // A lost connection rolls back on the server by itself; this is for errors that
                // leave the connection alive.
                _ = try? await connection.query("ROLLBACK")
                throw error
            }
        }
    }

    public func close() async {
        for connection in pool.close() { await connection.close() }
    }
}
