/// How to reach PostgreSQL and how long to wait for it.
public struct PostgresConfiguration: Sendable {
    public var url: PostgresURL
    /// Bound on establishing a connection (libpq counts whole seconds, minimum 1). Default 2 s.
    public var connectTimeout: Duration
    /// Server-side bound on any one statement (`statement_timeout`). Default 30 s: a statement
    /// running longer is stuck on a lock, and holding a pooled connection hides that.
    public var statementTimeout: Duration
    /// How long a task waits for a pooled connection before failing. Default 10 s: when every
    /// connection is stuck on a server that stopped answering, callers fail and retry instead
    /// of queueing behind them for ever.
    public var acquireTimeout: Duration
    /// How long sent data may stay unacknowledged, and how long a silent connection is probed
    /// by TCP keepalives, before libpq gives the connection up (`tcp_user_timeout`,
    /// `keepalives_*`). Default 10 s: a partitioned server fails a statement in about that long
    /// instead of the kernel's ~15 minutes.
    public var deadPeerTimeout: Duration
    /// Maximum connections a pool opens. Default 4: PostgreSQL pays a process per connection.
    public var poolSize: Int
    /// Schema to put first on `search_path`; tests use one each so they can run in parallel.
    public var schema: String?
    /// Reported in `pg_stat_activity`.
    public var applicationName: String

    public static let defaultConnectTimeout: Duration = .seconds(2)
    public static let defaultStatementTimeout: Duration = .seconds(30)
    public static let defaultPoolSize = 4
    public static let defaultAcquireTimeout: Duration = .seconds(10)
    public static let defaultDeadPeerTimeout: Duration = .seconds(10)

    public init(
        url: PostgresURL,
        connectTimeout: Duration = defaultConnectTimeout,
        statementTimeout: Duration = defaultStatementTimeout,
        acquireTimeout: Duration = defaultAcquireTimeout,
        deadPeerTimeout: Duration = defaultDeadPeerTimeout,
        poolSize: Int = defaultPoolSize,
        schema: String? = nil,
        applicationName: String = "redial"
    ) {
        self.url = url
        self.connectTimeout = connectTimeout
        self.statementTimeout = statementTimeout
        self.acquireTimeout = acquireTimeout
        self.deadPeerTimeout = deadPeerTimeout
        self.poolSize = poolSize
        self.schema = schema
        self.applicationName = applicationName
    }
}
