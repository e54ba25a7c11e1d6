import BlockingIO

/// One connection to Redis. Its calls block a private thread, never Swift's cooperative pool.
///
/// Reconnects by itself: a connection found broken (error recorded, or the server closed the idle
/// socket, e.g. because it restarted) is replaced before the next command is sent. A command that
/// fails *during* its round trip is not retried here: whether it ran is unknown, and only the
/// caller knows whether it is safe to send again.
public actor RedisConnection {
    public let configuration: RedisConfiguration
    private let executor: DispatchQueueExecutor
    private var context: HiredisContext?
    /// With a `redis-sentinel://` URL: where the master is, and the epoch this connection's
    /// context was opened at (an older one than the tracker's is closed before use).
    private let sentinelMaster: SentinelMaster?
    private var openedAt = 0
    /// With a `redis-cluster://` URL: which master serves each slot, and a socket per master
    /// this connection has talked to (`context` is not used then).
    let clusterMap: ClusterMap?
    var nodeContexts: [RedisURL.Address: HiredisContext] = [:]

    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    public init(configuration: RedisConfiguration) {
        self.configuration = configuration
        executor = DispatchQueueExecutor(label: "redial.redis.\(configuration.url.host):\(configuration.url.port)")
        sentinelMaster = configuration.url.usesSentinels ? SentinelMaster.shared(configuration.url) : nil
        clusterMap = configuration.url.usesCluster ? ClusterMap.shared(configuration.url) : nil
    }

    /// Connects now instead of on first use, to fail fast.
    public func connect() throws(RedisError) {
        if let clusterMap {
            _ = try nodeContext(try clusterMap.node(for: nil, timeout: configuration.connectTimeout))
        } else {
            _ = try usableContext()
        }
    }

    /// Sends a command; an error reply is thrown as `.server`.
    @discardableResult
    public func send(_ arguments: any RedisArgument...) throws(RedisError) -> RedisValue {
        try send(arguments)
    }

    @discardableResult
    public func send(_ arguments: [any RedisArgument]) throws(RedisError) -> RedisValue {
        try pipeline([.command(arguments)])[0].get()
    }

    /// Sends every command, then reads every reply: one round trip. Error replies come back as
    /// `.error` values in their place. Script calls answered NOSCRIPT (first use on this server,
    /// or its script cache was flushed) are loaded and sent again in a second round trip, so
    /// they run after the rest.
    ///
    /// `blocking`: the pipeline holds a blocking command (`BLMOVE`, `BLPOP`, …) whose own
    /// server-side timeout is this long; the socket timeout is raised above it for this call
    /// only. Redis runs a client's commands in order, so the ones after it run the moment it
    /// unblocks, without a round trip back to us.
    public func pipeline(_ commands: [RedisCommand], blocking: Duration? = nil) throws(RedisError) -> [RedisValue] {
        if commands.isEmpty { return [] }
        if let clusterMap { return try clusterPipeline(commands, blocking: blocking, map: clusterMap) }
        if let blocking {
            let context = try usableContext()
            context.setTimeout(blocking + configuration.commandTimeout)
        }
        defer { if blocking != nil { context?.setTimeout(configuration.commandTimeout) } }
        return try perform { context throws(RedisError) in try exchange(commands, on: context) }
    }

    /// Runs a script with EVALSHA, loading it first if needed; an error reply is thrown.
    @discardableResult
    public func run(_ script: RedisScript, keys: [String], arguments: [any RedisArgument]) throws(RedisError) -> RedisValue {
        try pipeline([.script(script, keys: keys, arguments: arguments)])[0].get()
    }

    /// Waits up to `within` for the next message pushed on this connection (after `SUBSCRIBE`);
    /// nil when none came. The connection is closed then: hiredis cannot resume a timed-out read.
    public func nextPush(within timeout: Duration) throws(RedisError) -> RedisValue? {
        let context = try usableContext()
        context.setTimeout(timeout)
        defer { self.context?.setTimeout(configuration.commandTimeout) }
        do {
            return try context.readReply()
        } catch {
            self.context = nil
            if error.code == .timeout { return nil }
            throw error
        }
    }

    /// Closes the socket; the next call opens a new one.
    public func close() {
        context = nil
        nodeContexts = [:]
    }

    /// One round trip on `context`; script calls answered NOSCRIPT (first use on this server, or
    /// its script cache was flushed) are loaded and sent again in a second one, so they run
    /// after the rest. Transport errors are thrown for the caller to drop the socket.
    func exchange(_ commands: [RedisCommand], on context: HiredisContext) throws(RedisError) -> [RedisValue] {
        var replies = try Self.roundTrip(commands, on: context)
        let missing = replies.indices.filter { replies[$0].isNoScript }
        if !missing.isEmpty {
            var loaded = Set<String>()
            for index in missing {
                if case .script(let script, _, _) = commands[index], loaded.insert(script.sha1).inserted {
                    let reply = try context.command(Self.encode([.command(["SCRIPT", "LOAD", script.source])]))
                    guard reply.string == script.sha1 else {
                        throw RedisError(.unexpectedReply, "SCRIPT LOAD of \(script.name) answered \(reply), expected \(script.sha1)")
                    }
                }
            }
            // A command a cluster redirected here with ASK is sent again after its ASKING.
            let resent = missing.flatMap { index in
                index > 0 && commands[index - 1].isAsking ? [commands[index - 1], commands[index]] : [commands[index]]
            }
            let retried = try Self.roundTrip(resent, on: context)
            for (index, reply) in zip(missing, zip(resent, retried).filter { !$0.0.isAsking }.map(\.1)) { replies[index] = reply }
        }
        if let sentinelMaster, replies.contains(where: \.isReadOnly) {
            // The master this connection knew was turned into a replica: nothing was written.
            self.context = nil
            sentinelMaster.moved(from: openedAt)
        }
        return replies
    }

    private static func roundTrip(_ commands: [RedisCommand], on context: HiredisContext) throws(RedisError) -> [RedisValue] {
        try context.append(formatted: encode(commands))
        var replies: [RedisValue] = []
        replies.reserveCapacity(commands.count)
        for _ in commands { replies.append(try context.readReply()) }
        return replies
    }

    /// Every command in RESP, in one buffer.
    static func encode(_ commands: [RedisCommand]) -> [UInt8] {
        var buffer: [UInt8] = []
        for command in commands {
            switch command {
            case .command(let arguments):
                buffer.appendArrayHeader(arguments.count)
                for argument in arguments { argument.appendBulkString(to: &buffer) }
            case .script(let script, let keys, let arguments):
                buffer.appendArrayHeader(3 + keys.count + arguments.count)
                "EVALSHA".appendBulkString(to: &buffer)
                script.sha1.appendBulkString(to: &buffer)
                keys.count.appendBulkString(to: &buffer)
                for key in keys { key.appendBulkString(to: &buffer) }
                for argument in arguments { argument.appendBulkString(to: &buffer) }
            }
        }
        return buffer
    }

    /// Runs `body` on a usable connection; any transport failure drops the connection so the
    /// next call starts clean (a timed-out reply would otherwise arrive as the next one's).
    private func perform<T>(_ body: (HiredisContext) throws(RedisError) -> T) throws(RedisError) -> T {
        let context = try usableContext()
        do {
            return try body(context)
        } catch {
            self.context = nil
            if error.code == .connectionLost || error.code == .timeout { sentinelMaster?.moved(from: openedAt) }
            throw error
        }
    }

    private func usableContext() throws(RedisError) -> HiredisContext {
        if let clusterMap { return try nodeContext(try clusterMap.node(for: nil, timeout: configuration.connectTimeout)) }
        if let context, context.isUsable, sentinelMaster.map({ $0.epoch == openedAt }) ?? true { return context }
        context = nil
        let url = configuration.url
        var server = RedisURL.Address(host: url.host, port: url.port)
        var epoch = 0
        if let sentinelMaster { (server, epoch) = try sentinelMaster.resolve(timeout: configuration.connectTimeout) }
        let fresh: HiredisContext
        do {
            fresh = try HiredisContext(host: server.host, port: server.port, timeout: configuration.connectTimeout)
        } catch {
            sentinelMaster?.moved(from: epoch)
            throw error
        }
        fresh.setTimeout(configuration.commandTimeout)
        if let password = url.password {
            let auth = url.username.map { ["AUTH", $0, password] } ?? ["AUTH", password]
            try Self.handshake(fresh, auth, url)
        }
        if let sentinelMaster {
            // The sentinels may name a master that has just been demoted (their view lags a
            // failover by moments): only a server that says it is master is written to.
            let role = try fresh.command(Self.encode([.command(["ROLE"])])).array?.first?.string
            guard role == "master" else {
                sentinelMaster.moved(from: epoch)
                throw RedisError(.connectionFailed, "\(server), named master of \(url) by its sentinels, is \(role ?? "of no known role"): a failover is under way")
            }
        }
        if url.database != 0 {
            try Self.handshake(fresh, ["SELECT", String(url.database)], url)
        }
        context = fresh
        openedAt = epoch
        return fresh
    }

    static func handshake(_ context: HiredisContext, _ arguments: [String], _ url: RedisURL) throws(RedisError) {
        if case .error(let message) = try context.command(encode([.command(arguments)])) {
            throw RedisError(.refused, "\(url): \(arguments[0]) refused: \(message)")
        }
    }
}

extension RedisValue {
    var isNoScript: Bool {
        if case .error(let message) = self { return message.hasPrefix("NOSCRIPT") }
        return false
    }

    var isReadOnly: Bool {
        if case .error(let message) = self { return message.hasPrefix("READONLY") }
        return false
    }
}
