import Synchronization

/// A bounded set of connections lent to one task at a time. Connections open lazily up to
/// `capacity`; a task that finds none idle waits (in FIFO order) for one to come back.
/// The Redis and PostgreSQL pools are this, with their own connection type and errors.
public final class ConnectionPool<Connection: Sendable>: Sendable {
    private struct State {
        var idle: [Connection] = []
        var opened = 0
        var waiters: [CheckedContinuation<Connection, any Error>] = []
        var closed = false
    }

    private let capacity: Int
    private let open: @Sendable () -> Connection
    private let closedError: @Sendable () -> any Error
    private let state = Mutex(State())

    /// - Parameters:
    ///   - capacity: most connections ever open at once.
    ///   - open: makes a connection object (which connects on first use).
    ///   - closedError: what a lease on a closed pool throws.
    public init(capacity: Int, open: @escaping @Sendable () -> Connection, closedError: @escaping @Sendable () -> any Error) {
        precondition(capacity > 0, "a connection pool needs a positive capacity")
        self.capacity = capacity
        self.open = open
        self.closedError = closedError
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
        for waiter in waiters { waiter.resume(throwing: closedError()) }
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
                let ready: Connection? = state.withLock { state in
                    if let connection = state.idle.popLast() { return connection }
                    state.waiters.append(continuation)
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        }
    }

    private func giveBack(_ connection: Connection) {
        let waiter: CheckedContinuation<Connection, any Error>? = state.withLock { state in
            if !state.waiters.isEmpty { return state.waiters.removeFirst() }
            if state.closed { state.opened -= 1 } else { state.idle.append(connection) }
            return nil
        }
        waiter?.resume(returning: connection)
    }
}
