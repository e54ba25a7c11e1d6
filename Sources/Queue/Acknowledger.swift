import RedisClient

/// Sends the outcomes of many handlers in as few round trips as possible: while one pipeline is
/// in flight, the next outcomes queue up and go together in the next one. Redis then fsyncs them
/// in one event-loop turn (group commit), which is what keeps `appendfsync always` affordable.
actor Acknowledger {
    private let connection: RedisConnection
    private var pending: [(command: RedisCommand, continuation: CheckedContinuation<RedisValue, any Error>)] = []
    private var flushing = false

    init(configuration: RedisConfiguration) {
        connection = RedisConnection(configuration: configuration)
    }

    /// Sends one script call in the next batch; returns its reply (errors in place, as values).
    func submit(_ command: RedisCommand) async throws -> RedisValue {
        try await withCheckedThrowingContinuation { continuation in
            pending.append((command, continuation))
            if !flushing {
                flushing = true
                Task { await self.flush() }
            }
        }
    }

    private func flush() async {
        while !pending.isEmpty {
            let batch = pending
            pending = []
            do {
                let replies = try await connection.pipeline(batch.map(\.command))
                for (entry, reply) in zip(batch, replies) { entry.continuation.resume(returning: reply) }
            } catch {
                for entry in batch { entry.continuation.resume(throwing: error) }
            }
        }
        flushing = false
    }

    func close() async {
        await connection.close()
    }
}
