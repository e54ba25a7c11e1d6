/// How to reach Redis and how long to wait for it.
public struct RedisConfiguration: Sendable {
    /// Which server, credentials and database.
    public var url: RedisURL
    /// Bound on establishing a connection. Default 2 s: a local server answers in microseconds;
    /// a longer wait only hides an outage.
    public var connectTimeout: Duration
    /// Bound on any single non-blocking command or pipeline round trip. Default 5 s: long enough
    /// for a 10,000-command pipeline under `appendfsync always`, short enough to fail over.
    public var commandTimeout: Duration
    /// Maximum connections a pool opens. Default 8.
    public var poolSize: Int
    /// Replicas a write that must survive a failover (an enqueue) waits for (`WAIT n`), up to
    /// `replicaTimeout`; fewer and it does not count. 0: the master's acknowledgement (and its
    /// AOF) is enough, and what asynchronous replication had not carried is lost in a failover.
    public var replicas = 0
    public var replicaTimeout: Duration = .seconds(1)

    public static let defaultConnectTimeout: Duration = .seconds(2)
    public static let defaultCommandTimeout: Duration = .seconds(5)
    public static let defaultPoolSize = 8

    public init(
        url: RedisURL,
        connectTimeout: Duration = defaultConnectTimeout,
        commandTimeout: Duration = defaultCommandTimeout,
        poolSize: Int = defaultPoolSize
    ) {
        self.url = url
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.poolSize = poolSize
    }
}
