/// A failure talking to Redis. `description` is written for a log line or an on-call human.
public struct RedisError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The URL could not be parsed.
        case invalidURL = "invalid_url"
        /// No connection could be made (server down, connection refused, unreachable).
        case connectionFailed = "connection_failed"
        /// The server answered but refused us: wrong password or user, or no such database.
        case refused
        /// The connection broke during a command; whether the command ran is unknown.
        case connectionLost = "connection_lost"
        /// No reply within the timeout; the connection is dropped.
        case timeout
        /// The server answered with an error reply (`-ERR …`, `-NOSCRIPT …`).
        case server
        /// A reply had an unexpected shape.
        case unexpectedReply = "unexpected_reply"
        /// The pool was closed.
        case closed
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// Redis could not be reached, stopped answering, or is not ready yet (still loading its
    /// data after a restart, busy with a long script, or failing over): worth waiting out. Not: it refused us,
    /// or answered with any other error.
    public var isTemporary: Bool {
        switch code {
        case .connectionFailed, .connectionLost, .timeout: true
        // READONLY: a master turned replica (a failover); the write did not run and the next
        // connection goes to the new master. A cluster's redirections and elections, when they
        // outlast the client's own retries, are the same: nothing ran.
        case .server: ["LOADING", "BUSY", "READONLY", "CLUSTERDOWN", "TRYAGAIN", "MOVED", "ASK"].contains(serverErrorKind ?? "")
        default: false
        }
    }

    /// For server errors: the error's first word (`NOSCRIPT`, `WRONGTYPE`, `ERR`).
    public var serverErrorKind: Substring? {
        code == .server ? message.prefix(while: { $0 != " " }) : nil
    }

    public var description: String { "redis \(code.rawValue): \(message)" }
}
