import BlockingIO

/// One connection to PostgreSQL. Statements block a private thread, never Swift's cooperative
/// pool. Only parameterised statements exist here: values never become part of the SQL text.
///
/// A connection found broken before a statement (server restarted, socket closed) is replaced
/// first; a statement that fails mid-flight throws `.connectionLost` and is not retried.
public actor PostgresConnection {
    public let configuration: PostgresConfiguration
    private let executor: DispatchQueueExecutor
    private var connection: LibpqConnection?

    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    public init(configuration: PostgresConfiguration) {
        self.configuration = configuration
        executor = DispatchQueueExecutor(label: "redial.postgres.\(configuration.url.host):\(configuration.url.port)")
    }

    /// Connects now instead of on first use, to fail fast.
    public func connect() throws(PostgresError) {
        _ = try usableConnection()
    }

    /// Runs a statement with `$1…$n` parameters and returns its rows (none for commands).
    @discardableResult
    public func query(_ sql: String, _ parameters: [(any PostgresEncodable)?] = []) throws(PostgresError) -> [PostgresRow] {
        let connection = try usableConnection()
        do {
            return try connection.execute(sql, parameters.map { $0?.postgresText }, deadline: answerDeadline)
        } catch {
            if error.code == .connectionLost { self.connection = nil }
            throw error
        }
    }

    /// Runs several statements without parameters, as one string (a migration file). Never for
    /// text that contains input: that goes through `query` and its parameters.
    public func executeScript(_ sql: String) throws(PostgresError) {
        let connection = try usableConnection()
        do {
            try connection.executeScript(sql)
        } catch {
            if error.code == .connectionLost { self.connection = nil }
            throw error
        }
    }

    /// LISTENs on `channel`: from then on this connection serves `notifications(waiting:)`
    /// (kept out of any pool: a notification arriving on an idle pooled connection would read as
    /// a broken one).
    public func listen(_ channel: String) throws(PostgresError) {
        try query("LISTEN " + Self.quoteIdentifier(channel))
    }

    /// Waits up to `timeout` (blocking this connection's own thread) for notifications on the
    /// channels it LISTENs to; their payloads. A lost connection throws: LISTEN again.
    public func notifications(waiting timeout: Duration) throws(PostgresError) -> [String] {
        guard let connection else { throw PostgresError(.connectionLost, "not listening: no connection to \(configuration.url)") }
        do throws(PostgresError) {
            return try connection.notifications(waiting: timeout)
        } catch {
            self.connection = nil
            throw error
        }
    }

    public func close() {
        connection = nil
    }

    /// The client's own bound on waiting for an answer: the server's statement timeout and as
    /// much again, so the server's cancellation (an ordinary error) always comes first.
    private var answerDeadline: Duration { configuration.statementTimeout * 2 + .seconds(1) }

    private func usableConnection() throws(PostgresError) -> LibpqConnection {
        if let connection {
            switch connection.health {
            case .usable:
                return connection
            case .brokenInTransaction:
                self.connection = nil
                throw PostgresError(.connectionLost, "connection to \(configuration.url) lost inside a transaction")
            case .broken:
                self.connection = nil
            }
        }
        let fresh = try LibpqConnection(
            connectionString: configuration.url.connectionString(
                connectTimeout: configuration.connectTimeout, deadPeerTimeout: configuration.deadPeerTimeout,
                applicationName: configuration.applicationName),
            description: configuration.url.description)
        let milliseconds = configuration.statementTimeout.components.seconds * 1000
            + configuration.statementTimeout.components.attoseconds / 1_000_000_000_000_000
        _ = try fresh.execute("SELECT set_config('statement_timeout', $1, false)", [String(milliseconds)], deadline: answerDeadline)
        if let schema = configuration.schema {
            _ = try fresh.execute("SELECT set_config('search_path', $1, false)", [Self.quoteIdentifier(schema) + ", public"],
                                  deadline: answerDeadline)
        }
        connection = fresh
        return fresh
    }

    /// Quotes an identifier (schema, table) for the rare statement that cannot take it as a parameter.
    public static func quoteIdentifier(_ name: String) -> String {
        "\"" + name.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\""
    }
}
