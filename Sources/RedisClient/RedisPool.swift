import BlockingIO

/// A bounded set of `RedisConnection`s shared by many tasks.
public final class RedisPool: Sendable {
    public let configuration: RedisConfiguration
    private let pool: ConnectionPool<RedisConnection>

    public init(configuration: RedisConfiguration) {
        self.configuration = configuration
        pool = ConnectionPool(
            capacity: configuration.poolSize,
            open: { RedisConnection(configuration: configuration) },
            closedError: { RedisError(.closed, "the Redis pool was closed") })
    }

    /// Where the master is when the URL names sentinels; nil for a plain server.
    public var sentinels: SentinelMaster? {
        configuration.url.usesSentinels ? SentinelMaster.shared(configuration.url) : nil
    }

    /// The slot map when the URL names a Redis Cluster; nil otherwise.
    public var cluster: ClusterMap? {
        configuration.url.usesCluster ? ClusterMap.shared(configuration.url) : nil
    }

    /// Sends `arguments` to each master of a cluster, or to the one server: for what a server
    /// answers of itself (its configuration, its version) and what each must do (`FLUSHALL`).
    public func sendToEachServer(_ arguments: any RedisArgument...) async throws -> [(server: String, reply: RedisValue)] {
        try await withConnection { try await $0.sendToEachServer(arguments) }
    }

    /// Lends a connection to `body` and takes it back afterwards, whatever happens.
    public func withConnection<T>(_ body: (RedisConnection) async throws -> T) async throws -> T {
        try await pool.withConnection(body)
    }

    @discardableResult
    public func send(_ arguments: any RedisArgument...) async throws -> RedisValue {
        try await withConnection { try await $0.send(arguments) }
    }

    @discardableResult
    public func send(_ arguments: [any RedisArgument]) async throws -> RedisValue {
        try await withConnection { try await $0.send(arguments) }
    }

    public func pipeline(_ commands: [RedisCommand]) async throws -> [RedisValue] {
        try await withConnection { try await $0.pipeline(commands) }
    }

    @discardableResult
    public func run(_ script: RedisScript, keys: [String], arguments: [any RedisArgument]) async throws -> RedisValue {
        try await withConnection { try await $0.run(script, keys: keys, arguments: arguments) }
    }

    /// Closes idle connections and fails waiters; connections in use are dropped when given back.
    public func close() async {
        for connection in pool.close() { await connection.close() }
    }
}
