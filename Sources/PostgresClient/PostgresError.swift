/// A failure talking to PostgreSQL; carries the server's SQLSTATE and constraint when it has them.
public struct PostgresError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case invalidURL = "invalid_url"
        /// No connection could be made (server down, refused, bad credentials).
        case connectionFailed = "connection_failed"
        /// The connection broke during a statement; whether it committed is unknown.
        case connectionLost = "connection_lost"
        /// A unique constraint refused the row (SQLSTATE 23505); `constraint` names it.
        case uniqueViolation = "unique_violation"
        /// Any other error the server reported; `sqlState` says which.
        case server
        /// A column could not be decoded as the requested type, or does not exist.
        case decoding
        /// The pool was closed.
        case closed
        /// No pooled connection came free within the pool's acquire timeout.
        case poolExhausted = "pool_exhausted"
    }

    public let code: Code
    public let message: String
    public var sqlState: String?
    public var constraint: String?

    public init(_ code: Code, _ message: String, sqlState: String? = nil, constraint: String? = nil) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
        self.constraint = constraint
    }

    public var description: String {
        var text = "postgres \(code.rawValue): \(message)"
        if let sqlState { text += " (SQLSTATE \(sqlState)" + (constraint.map { ", constraint \($0)" } ?? "") + ")" }
        return text
    }
}
