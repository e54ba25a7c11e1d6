import RedisClient
import Synchronization

/// Sends the outcomes of many handlers in as few round trips as possible: while one pipeline is
/// in flight, the next outcomes queue up and go together in the next one. Completions of a
/// batch share one `completeJobs` call; Redis then fsyncs the whole batch in one event-loop
/// turn (group commit), which is what keeps `appendfsync always` affordable.
final class Acknowledger: Sendable {
    private enum Entry {
        case completion(id: String, attempt: Int, CheckedContinuation<Int, any Error>)
        case command(RedisCommand, CheckedContinuation<RedisValue, any Error>)
    }

    private struct State {
        var pending: [Entry] = []
        var flushing = false
    }

    private let executor: any TaskExecutor
    private let connection: RedisConnection
    private let keys: Keys
    private let worker: String
    private let retention: Duration
    private let keep: Int
    private let state = Mutex(State())

    init(executor: any TaskExecutor, configuration: RedisConfiguration, keys: Keys, worker: String, retention: Duration, keep: Int) {
        self.executor = executor
        connection = RedisConnection(configuration: configuration)
        self.keys = keys
        self.worker = worker
        self.retention = retention
        self.keep = keep
    }

    /// Acknowledges a completed job in the next batch; returns `completeJobs`' code for it.
    func complete(id: String, attempt: Int) async throws -> Int {
        try await withCheckedThrowingContinuation { enqueue(.completion(id: id, attempt: attempt, $0)) }
    }

    /// Sends one other script call in the next batch; returns its reply (errors as values).
    func submit(_ command: RedisCommand) async throws -> RedisValue {
        try await withCheckedThrowingContinuation { enqueue(.command(command, $0)) }
    }

    private func enqueue(_ entry: Entry) {
        let startFlushing = state.withLock { state in
            state.pending.append(entry)
            defer { state.flushing = true }
            return !state.flushing
        }
        if startFlushing { Task(executorPreference: executor) { await self.flush() } }
    }

    private func flush() async {
        while true {
            let batch = state.withLock { state in
                defer { state.pending = [] }
                if state.pending.isEmpty { state.flushing = false }
                return state.pending
            }
            if batch.isEmpty { return }
            var completions: [(id: String, attempt: Int, continuation: CheckedContinuation<Int, any Error>)] = []
            var others: [(command: RedisCommand, continuation: CheckedContinuation<RedisValue, any Error>)] = []
            for entry in batch {
                switch entry {
                case .completion(let id, let attempt, let continuation): completions.append((id, attempt, continuation))
                case .command(let command, let continuation): others.append((command, continuation))
                }
            }
            var commands = others.map(\.command)
            if !completions.isEmpty {
                var arguments: [any RedisArgument] = [keys.jobPrefix, retention.milliseconds, keep]
                arguments.reserveCapacity(3 + completions.count * 2)
                for completion in completions { arguments += [completion.id, completion.attempt] }
                commands.append(.script(QueueScripts.completeJobs.script, keys: [keys.held(worker), keys.stats, keys.completed],
                                        arguments: arguments))
            }
            do {
                let replies = try await connection.pipeline(commands)
                for (entry, reply) in zip(others, replies) { entry.continuation.resume(returning: reply) }
                if !completions.isEmpty {
                    let codes = replies.last?.array ?? []
                    for (index, completion) in completions.enumerated() {
                        if index < codes.count, let code = codes[index].int {
                            completion.continuation.resume(returning: code)
                        } else {
                            completion.continuation.resume(throwing: QueueError(.unexpectedReply, "completeJobs answered \(replies.last ?? .null)"))
                        }
                    }
                }
            } catch {
                for entry in others { entry.continuation.resume(throwing: error) }
                for completion in completions { completion.continuation.resume(throwing: error) }
            }
        }
    }

    func close() async {
        await connection.close()
    }
}
