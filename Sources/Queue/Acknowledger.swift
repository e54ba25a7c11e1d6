import RedisClient
import Synchronization

/// Sends the outcomes of many handlers in as few round trips as possible: while one pipeline is
/// in flight, the next outcomes queue up and go together in the next one. Redis then fsyncs them
/// in one event-loop turn (group commit), which is what keeps `appendfsync always` affordable.
final class Acknowledger: Sendable {
    private struct State {
        var pending: [(command: RedisCommand, continuation: CheckedContinuation<RedisValue, any Error>)] = []
        var flushing = false
    }

    private let connection: RedisConnection
    private let state = Mutex(State())

    init(configuration: RedisConfiguration) {
        connection = RedisConnection(configuration: configuration)
    }

    /// Sends one script call in the next batch; returns its reply (errors in place, as values).
    func submit(_ command: RedisCommand) async throws -> RedisValue {
        try await withCheckedThrowingContinuation { continuation in
            let startFlushing = state.withLock { state in
                state.pending.append((command, continuation))
                defer { state.flushing = true }
                return !state.flushing
            }
            if startFlushing { Task { await self.flush() } }
        }
    }

    private func flush() async {
        while true {
            let batch = state.withLock { state in
                defer { state.pending = [] }
                if state.pending.isEmpty { state.flushing = false }
                return state.pending
            }
            if batch.isEmpty { return }
            do {
                let replies = try await connection.pipeline(batch.map(\.command))
                for (entry, reply) in zip(batch, replies) { entry.continuation.resume(returning: reply) }
            } catch {
                for entry in batch { entry.continuation.resume(throwing: error) }
            }
        }
    }

    func close() async {
        await connection.close()
    }
}
