import RedisClient
import Synchronization

/// Sends the outcomes of many handlers in as few round trips as possible: while one pipeline is
/// in flight, the next outcomes queue up and go together in the next one. Completions of a
/// batch share one `completeJobs` call; Redis then fsyncs the whole batch in one event-loop
/// turn (group commit), which is what keeps `appendfsync always` affordable.
///
/// Nobody waits for an ack: each reply (or the error that lost it) goes to `settle`, called on
/// the queue's executor as the batch's reply arrives. A lane waiting for its ack would idle,
/// and one continuation per job would cost another task hop. When `settle` asks for it, a
/// failed ack is sent again after its pause (Redis unreachable).
final class Acknowledger: Sendable {
    /// An outcome on its way to Redis.
    struct Ack: Sendable {
        enum Kind: Sendable {
            /// Goes in the batch's `completeJobs`; its reply is that job's code. `ran`: claim to
            /// the handler's end, counted in the queue's run-time histogram.
            case completion(ran: Duration)
            /// Sent as it is (a `failJob` call); its reply is the script's. `reason`: the
            /// handler's, for the log.
            case failure(RedisCommand, reason: String)
        }

        let job: Job
        let kind: Kind
        /// The job's handler slot was given back before this ack landed.
        let early: Bool
        /// Between deliveries of this ack while Redis is unreachable.
        var pause = Pause()
    }

    /// Returns true to send a failed ack again.
    typealias Settle = @Sendable (Ack, Result<RedisValue, any Error>) -> Bool

    private struct State {
        var pending: [Ack] = []
        var flushing = false
    }

    private let executor: any TaskExecutor
    private let connection: RedisConnection
    private let keys: Keys
    private let worker: String
    private let retention: Duration
    private let keep: Int
    private let settle: Settle
    private let state = Mutex(State())

    init(executor: any TaskExecutor, configuration: RedisConfiguration, keys: Keys, worker: String, retention: Duration, keep: Int,
         settle: @escaping Settle) {
        self.executor = executor
        connection = RedisConnection(configuration: configuration)
        self.keys = keys
        self.worker = worker
        self.retention = retention
        self.keep = keep
        self.settle = settle
    }

    /// Sends the ack in the next batch.
    func send(_ ack: Ack) {
        let startFlushing = state.withLock { state in
            state.pending.append(ack)
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
            var commands: [RedisCommand] = []
            var completions: [(ack: Ack, ran: Duration)] = []
            var others: [Ack] = []
            for ack in batch {
                switch ack.kind {
                case .completion(let ran): completions.append((ack, ran))
                case .failure(let command, _):
                    others.append(ack)
                    commands.append(command)
                }
            }
            if !completions.isEmpty {
                commands.append(WorkerCommands.complete(keys, worker: worker, retention: retention, keep: keep,
                                                        runs: completions.lazy.map { ($0.ack.job, $0.ran) }))
            }
            do {
                let replies = try await connection.pipeline(commands)
                for (ack, reply) in zip(others, replies) { deliver(ack, .success(reply)) }
                if !completions.isEmpty {
                    let codes = replies.last?.array ?? []
                    for (index, (ack, _)) in completions.enumerated() {
                        if index < codes.count, case .integer = codes[index] {
                            deliver(ack, .success(codes[index]))
                        } else {
                            deliver(ack, .failure(QueueError(.unexpectedReply, "completeJobs answered \(replies.last ?? .null)")))
                        }
                    }
                }
            } catch {
                for ack in others + completions.map(\.ack) { deliver(ack, .failure(error)) }
            }
        }
    }

    private func deliver(_ ack: Ack, _ result: Result<RedisValue, any Error>) {
        guard settle(ack, result) else { return }
        Task(executorPreference: executor) {
            var ack = ack
            await ack.pause.wait()
            self.send(ack)
        }
    }

    func close() async {
        await connection.close()
    }
}
