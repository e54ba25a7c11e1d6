import Synchronization

/// A bounded set of connections lent to one task at a time. Connections open lazily up to
/// `capacity`; a task that finds none idle waits (in FIFO order) for one to come back.
/// The Redis and PostgreSQL pools are this, with their own connection type and errors.
public final class ConnectionPool<Connection: Sendable>: Sendable {
    private struct State {
        var idle: [Connection] = []
        var opened = 0
        var waiters: [(id: UInt64, continuation: CheckedContinuation<Connection, any Error>)] = []
        var nextWaiter: UInt64 = 0
        var closed = false
    }

    private let capacity: Int
    private let open: @Sendable () -> Connection
    private let closedError: @Sendable () -> any Error
    private let acquireTimeout: Duration?
    private let timeoutError: @Sendable (Duration) -> any Error
    private let state = Mutex(State())

    /// - Parameters:
    ///   - capacity: most connections ever open at once.
    ///   - open: makes a connection object (which connects on first use).
    ///   - closedError: what a lease on a closed pool throws.
    ///   - acquireTimeout: how long a task waits for a connection before `timeoutError`; nil
    ///     waits as long as it takes. A bound keeps a pool whose connections are all stuck (a
    ///     server that stopped answering) from hanging every caller behind them.
    public init(capacity: Int, open: @escaping @Sendable () -> Connection, closedError: @escaping @Sendable () -> any Error,
                acquireTimeout: Duration? = nil, timeoutError: @escaping @Sendable (Duration) -> any Error = { _ in CancellationError() }) {
        precondition(capacity > 0, "a connection pool needs a positive capacity")
        self.capacity = capacity
        self.open = open
        self.closedError = closedError
        self.acquireTimeout = acquireTimeout
        self.timeoutError = timeoutError
    }

    /// Lends a connection to `body` and takes it back afterwards, whatever happens.
    public func withConnection<T>(_ body: (Connection) async throws -> T) async throws -> T {
        let connection = try await lease()
        defer { giveBack(connection) }
        return try await body(connection)
    }

    /// Marks the pool closed, fails waiters, and returns the idle connections for closing.
    public func close() -> [Connection] {
        let (idle, waiters) = state.withLock { state in
            state.closed = true
            defer { state.idle = []; state.waiters = [] }
            return (state.idle, state.waiters)
        }
        for waiter in waiters { waiter.continuation.resume(throwing: closedError()) }
        return idle
    }

    private enum Lease {
        case ready(Connection)
        case open
        case wait
        case closed
    }

    private func lease() async throws -> Connection {
        let decision: Lease = state.withLock { state in
            if state.closed { return .closed }
            if let connection = state.idle.popLast() { return .ready(connection) }
            if state.opened < capacity {
                state.opened += 1
                return .open
            }
            return .wait
        }
        switch decision {
        case .ready(let connection): return connection
        case .open: return open()
        case .closed: throw closedError()
        case .wait:
            return try await withCheckedThrowingContinuation { continuation in
                let waiter: UInt64? = state.withLock { state in
                    if let connection = state.idle.popLast() {
                        continuation.resume(returning: connection)
                        return nil
                    }
                    state.nextWaiter += 1
                    state.waiters.append((state.nextWaiter, continuation))
                    return state.nextWaiter
                }
                if let waiter, let acquireTimeout { expire(waiter, after: acquireTimeout) }
            }
        }
    }

    /// Fails a waiter still waiting after `timeout`; one served meanwhile is no longer listed.
    private func expire(_ waiter: UInt64, after timeout: Duration) {
        Task { [self] in
            try? await Task.sleep(for: timeout)
            let expired = state.withLock { state in
                state.waiters.firstIndex { $0.id == waiter }.map { state.waiters.remove(at: $0).continuation }
            }
            expired?.resume(throwing: timeoutError(timeout))
        }
    }

    private func giveBack(_ connection: Connection) {
        let waiter: CheckedContinuation<Connection, any Error>? = state.withLock { state in
            if !state.waiters.isEmpty { return state.waiters.removeFirst().continuation }
            if state.closed { state.opened -= 1 } else { state.idle.append(connection) }
            return nil
        }
        waiter?.resume(returning: connection)
    }
}
