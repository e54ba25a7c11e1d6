import CLibpq
#if canImport(Glibc)
import Glibc
#endif

/// Owns one libpq `PGconn` and frees it; the only place a libpq pointer exists.
/// Not `Sendable`: it lives inside one `PostgresConnection` actor.
final class LibpqConnection {
    private let connection: OpaquePointer

    init(connectionString: String, description: String) throws(PostgresError) {
        guard let connection = PQconnectdb(connectionString) else {
            throw PostgresError(.connectionFailed, "cannot allocate a connection to \(description)")
        }
        self.connection = connection  // from here on, deinit frees it, also when init throws
        guard PQstatus(connection) == CONNECTION_OK else {
            let reason = Self.errorMessage(connection)
            throw PostgresError(.connectionFailed, "cannot connect to \(description): \(reason)")
        }
        // Without a processor libpq prints every NOTICE to stderr.
        PQsetNoticeProcessor(connection, { _, _ in }, nil)
    }

    deinit { PQfinish(connection) }

    enum Health {
        case usable
        /// Broken, or the server sent something unasked on the idle socket (a FATAL before it
        /// closes: restart, terminate, idle timeout). Found before sending, so nothing is in doubt.
        case broken
        /// Broken in the middle of a transaction: its earlier statements are lost, so the caller
        /// must hear about it rather than get a fresh connection outside the transaction.
        case brokenInTransaction
    }

    var health: Health {
        let inTransaction = PQtransactionStatus(connection) != PQTRANS_IDLE
        var descriptor = pollfd(fd: PQsocket(connection), events: Int16(POLLIN), revents: 0)
        let unexpectedInput = poll(&descriptor, 1, 0) > 0
        guard PQstatus(connection) != CONNECTION_OK || unexpectedInput else { return .usable }
        return inTransaction ? .brokenInTransaction : .broken
    }

    /// Runs one parameterised statement; text-format parameters and results. Waits for the
    /// answer at most `deadline`: the server's own `statement_timeout` ends a slow statement
    /// first; this bound is for a server that stopped answering altogether (its process hung,
    /// its host gone while the kernel still acknowledges nothing new), which would otherwise
    /// hold this thread, and the job or request behind it, for good. Past it the connection is
    /// given up (`.connectionLost`): what it was doing is unknown.
    func execute(_ sql: String, _ parameters: [String?], deadline: Duration) throws(PostgresError) -> [PostgresRow] {
        let sent = withCStrings(parameters) { pointers in
            PQsendQueryParams(connection, sql, Int32(parameters.count), nil, pointers, nil, nil, 0)
        }
        guard sent == 1 else { throw PostgresError(.connectionLost, Self.errorMessage(connection)) }
        let end = ContinuousClock.now + deadline
        var final: OpaquePointer?
        while true {
            while PQisBusy(connection) == 1 {
                let left = end - ContinuousClock.now
                var descriptor = pollfd(fd: PQsocket(connection), events: Int16(POLLIN), revents: 0)
                let ready = left > .zero ? poll(&descriptor, 1, Int32(max(1, left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000))) : 0
                if ready == 0 {
                    if let final { PQclear(final) }
                    throw PostgresError(.connectionLost, "no answer from PostgreSQL within \(deadline); the connection is given up")
                }
                if ready < 0 && errno == EINTR { continue }
                guard ready > 0, PQconsumeInput(connection) == 1 else {
                    if let final { PQclear(final) }
                    throw PostgresError(.connectionLost, Self.errorMessage(connection))
                }
            }
            guard let result = PQgetResult(connection) else { break }
            // One statement gives one result (then NULL); an error result is kept over any other.
            if let kept = final {
                if PQresultStatus(kept) == PGRES_FATAL_ERROR { PQclear(result); continue }
                PQclear(kept)
            }
            final = result
        }
        return try check(final)
    }

    /// Waits up to `timeout` for notifications on the channels this connection LISTENs to;
    /// returns their payloads (empty: none in time). A closed or broken socket throws
    /// `.connectionLost` (the LISTEN went with it).
    func notifications(waiting timeout: Duration) throws(PostgresError) -> [String] {
        if case let waiting = drainNotifications(), !waiting.isEmpty { return waiting }
        var descriptor = pollfd(fd: PQsocket(connection), events: Int16(POLLIN), revents: 0)
        let milliseconds = Int32(clamping: timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        let ready = poll(&descriptor, 1, max(0, milliseconds))
        if ready < 0 && errno == EINTR { return [] }
        if ready != 0 {
            guard ready > 0, PQconsumeInput(connection) == 1, PQstatus(connection) == CONNECTION_OK else {
                throw PostgresError(.connectionLost, Self.errorMessage(connection))
            }
        }
        return drainNotifications()
    }

    private func drainNotifications() -> [String] {
        var payloads: [String] = []
        while let notification = PQnotifies(connection) {
            payloads.append(notification.pointee.extra.map { String(cString: $0) } ?? "")
            PQfreemem(notification)
        }
        return payloads
    }

    /// Runs a script of several statements without parameters (migrations): the simple query
    /// protocol, which PQexecParams refuses for more than one statement.
    func executeScript(_ sql: String) throws(PostgresError) {
        _ = try check(PQexec(connection, sql))
    }

    private func check(_ result: OpaquePointer?) throws(PostgresError) -> [PostgresRow] {
        guard let result else {
            throw PostgresError(.connectionLost, Self.errorMessage(connection))
        }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            return []
        case PGRES_TUPLES_OK:
            return Self.rows(of: result)
        default:
            if PQstatus(connection) != CONNECTION_OK {
                throw PostgresError(.connectionLost, Self.errorMessage(connection))
            }
            throw Self.serverError(result)
        }
    }

    private static func rows(of result: OpaquePointer) -> [PostgresRow] {
        let columnCount = PQnfields(result)
        let columns = (0..<columnCount).map { String(cString: PQfname(result, $0)) }
        return (0..<PQntuples(result)).map { row in
            let values: [String?] = (0..<columnCount).map { column in
                PQgetisnull(result, row, column) == 1 ? nil : String(cString: PQgetvalue(result, row, column))
            }
            return PostgresRow(columns: columns, values: values)
        }
    }

    private static func serverError(_ result: OpaquePointer) -> PostgresError {
        func field(_ code: Character) -> String? {
            PQresultErrorField(result, Int32(code.asciiValue!)).map { String(cString: $0) }
        }
        let sqlState = field("C")
        let message = field("M") ?? String(cString: PQresultErrorMessage(result))
        let constraint = field("n")
        return PostgresError(sqlState == "23505" ? .uniqueViolation : .server, message,
                             sqlState: sqlState, constraint: constraint)
    }

    private static func errorMessage(_ connection: OpaquePointer) -> String {
        String(cString: PQerrorMessage(connection)).trimmingTrailingWhitespace()
    }

    private func withCStrings<R>(_ strings: [String?], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
        let owned = strings.map { $0.map { strdup($0) } ?? nil }
        defer { owned.forEach { free($0) } }
        return body(owned.map { $0.map { UnsafePointer($0) } })
    }
}

extension String {
    func trimmingTrailingWhitespace() -> String {
        var text = Substring(self)
        while let last = text.last, last.isWhitespace { text = text.dropLast() }
        return String(text)
    }
}
