import Logging
import Metrics
import RedisClient
import Synchronization

/// Runs one queue inside a worker process: one blocking fetch loop feeding `concurrency`
/// handler slots, plus the queue's heartbeat, reaper and scheduler.
///
/// Crash windows. A fetch is `BLMOVE ready → worker:<wid>:landing` (waiting while ready is
/// empty) and a claim (`claimJobs.lua`) sent in one write; the claim takes what landed and more
/// from ready, marks them active and enters them in this worker's held hash in one script. If this
/// process dies at any point, its jobs sit in its own landing list or held hash and its
/// heartbeat expires: another worker's reaper returns them to ready. If only the connection
/// dies mid-claim, the process lives on: jobs it holds but is not running ("orphans") are
/// handed back before the next claim, and a landed id whose BLMOVE reply was lost is taken by
/// the next claim. Acks are fenced on the held hash by `completeJobs.lua`/`failJob.lua`.
final class QueueProcessor: Sendable {
    let keys: Keys
    let configuration: WorkerConfiguration
    let definitions: [String: JobDefinition]
    let redis: RedisPool
    let redisConfiguration: RedisConfiguration
    let logger: Logger
    let metrics: QueueMetrics
    private let slots: Slots
    private let acknowledger: Acknowledger
    private let executor: QueueExecutor
    /// Jobs this process is running, by id.
    private let inFlight = Mutex<[String: Running]>([:])
    private let state = Mutex(State())

    private struct Running {
        let attempt: Int
        let deadline: ContinuousClock.Instant
        var task: Task<Void, Never>?
        /// Set by the watchdog before it cancels the task, so the outcome says "timed out".
        var timedOut = false
    }

    private struct State {
        var stopping = false
        /// Jobs whose handler slot was given back before their ack landed (at most the queue's
        /// concurrency, so acks waiting on a slow Redis cannot pile up without bound).
        var awaitingAck = 0
        /// Once past it, a shutdown stops retrying acks (Redis down at shutdown must not hang us).
        var giveUpAt: ContinuousClock.Instant?
    }

    init(queue: String, configuration: WorkerConfiguration, definitions: [String: JobDefinition],
         redis: RedisPool, redisConfiguration: RedisConfiguration, logger: Logger) {
        keys = Keys(queue: queue)
        self.configuration = configuration
        self.definitions = definitions
        self.redis = redis
        self.redisConfiguration = redisConfiguration
        var logger = logger
        logger[metadataKey: "job.queue"] = "\(queue)"
        self.logger = logger
        metrics = QueueMetrics(queue: queue)
        slots = Slots(configuration.concurrency[queue] ?? 1)
        executor = QueueExecutor(queue: queue)
        acknowledger = Acknowledger(executor: executor, configuration: redisConfiguration, keys: keys, worker: configuration.id,
                                    retention: configuration.completedRetention, keep: configuration.completedKeep)
    }

    private var worker: String { configuration.id }
    private var concurrency: Int { configuration.concurrency[keys.queue] ?? 1 }
    private var ttl: Duration { configuration.effectiveHeartbeatTTL }
    private var isStopping: Bool { state.withLock { $0.stopping } }

    /// Stops fetching; in-flight jobs get the shutdown grace period, then are handed back.
    func stop() {
        state.withLock { state in
            guard !state.stopping else { return }
            state.stopping = true
            state.giveUpAt = .now + configuration.shutdownGrace + .seconds(2)
        }
        slots.close()
    }

    func run() async {
        let heartbeat = Heartbeat(keys: keys, worker: worker, ttl: ttl, redis: redis, logger: logger)
        var pause = Pause()
        while !isStopping {
            do {
                _ = try await heartbeat.beat(first: true)
                break
            } catch {
                logger.warning("cannot register with Redis yet: \(error)")
                await pause.wait()
            }
        }
        let reaper = Reaper(keys: keys, worker: worker, interval: ttl / 2, redis: redis, logger: logger, metrics: metrics,
                            deadKeep: configuration.deadKeep, deadRetention: configuration.deadRetention)
        let scheduler = Scheduler(keys: keys, redis: redis, logger: logger)
        await withTaskGroup(of: Void.self) { maintenance in
            maintenance.addTask { await heartbeat.run() }
            maintenance.addTask { await reaper.run() }
            maintenance.addTask { await scheduler.run() }
            maintenance.addTask { await self.watchTimeouts() }
            await withTaskExecutorPreference(executor) { await fetchAndRun() }
            maintenance.cancelAll()
        }
        do {
            try await heartbeat.retire()
        } catch {
            logger.warning("could not leave the registry: \(error); the reaper will")
        }
        await acknowledger.close()
        logger.info("stopped")
    }

    // MARK: - Fetching

    private func fetchAndRun() async {
        let connection = RedisConnection(configuration: redisConfiguration)
        var pause = Pause()
        var orphansSuspected = false
        while !isStopping {
            let room = await slots.takeAvailable()
            if room == 0 { break }
            do {
                if orphansSuspected {
                    try await handBackOrphans(connection)
                    orphansSuspected = false
                }
                let jobs = try await claim(connection, count: room)
                if jobs.count < room { slots.give(room - jobs.count) }
                for job in jobs { start(job) }
                // Handlers that finish at once (their tasks are queued behind this loop on the
                // queue's executor) give their slots back before the next claim counts them:
                // otherwise it waits in BLMOVE asking for fewer jobs than there is room for.
                if !jobs.isEmpty { await Task.yield() }
                pause.reset()
            } catch {
                slots.give(room)
                orphansSuspected = true  // a claim whose reply was lost may have moved jobs
                logger.warning("fetch failed: \(error)")
                await pause.wait()
            }
        }
        await drain()
        await connection.close()
    }

    /// Runs a job in a task of its own. Unstructured on purpose: the watchdog needs its handle
    /// to cancel it at its deadline, and one task per job (no per-job timer task) keeps the hot
    /// path short.
    private func start(_ job: Job) {
        let timeout = job.timeout ?? definitions[job.type]?.policy.timeout ?? JobPolicy.defaultTimeout
        inFlight.withLock { $0[job.id] = Running(attempt: job.attempt, deadline: .now + timeout) }
        let task = Task(executorPreference: executor) {
            await self.execute(job, timeout: timeout)
        }
        inFlight.withLock { $0[job.id]?.task = task }  // a no-op if the job already finished
    }

    /// Cancels jobs past their deadline, checking every 10 ms.
    private func watchTimeouts() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(10))
            let now = ContinuousClock.now
            let overdue: [Task<Void, Never>] = inFlight.withLock { running in
                var overdue: [Task<Void, Never>] = []
                for (id, entry) in running where !entry.timedOut && entry.deadline < now {
                    running[id]?.timedOut = true
                    if let task = entry.task { overdue.append(task) }
                }
                return overdue
            }
            overdue.forEach { $0.cancel() }
        }
    }

    /// Claims up to `count` jobs, waiting for one if ready is empty: `BLMOVE ready → landing`
    /// and `claimJobs` sent in one write. Redis runs a client's commands in order, so the claim
    /// runs the moment BLMOVE has moved a job (at once if ready has one; when BLMOVE times out
    /// it finds nothing): one round trip whether the queue is busy or quiet, and the first job
    /// of a quiet queue starts one round trip after its enqueue.
    private func claim(_ connection: RedisConnection, count: Int) async throws -> [Job] {
        let block = configuration.fetchBlock
        let replies = try await connection.pipeline([
            .command(["BLMOVE", keys.ready, keys.landing(worker), "RIGHT", "LEFT", String(Double(block.milliseconds) / 1000)]),
            .script(QueueScripts.claimJobs.script, keys: [keys.ready, keys.landing(worker), keys.held(worker), keys.stats],
                    arguments: [keys.jobPrefix, worker, count]),
        ], blocking: block)
        // What the claim took is returned even if BLMOVE failed: jobs claimed and dropped here
        // would sit in the held hash until the orphan hand-back.
        let claimed = jobs(in: try replies[1].get())
        if claimed.isEmpty { _ = try replies[0].get() }
        return claimed
    }

    /// The jobs in a `claimJobs` reply (8 entries each).
    private func jobs(in reply: RedisValue) -> [Job] {
        let items = reply.array ?? []
        var jobs: [Job] = []
        jobs.reserveCapacity(items.count / 8)
        for base in stride(from: 0, to: items.count - 7, by: 8) {
            jobs.append(Job(
                id: items[base].string ?? "", type: items[base + 1].string ?? "", queue: keys.queue,
                payload: items[base + 2].bytes ?? [], attempt: items[base + 3].int ?? 0, maxAttempts: items[base + 4].int ?? 0,
                enqueuedAt: Int64(items[base + 5].int ?? 0), startedAt: Int64(items[base + 6].int ?? 0),
                timeout: items[base + 7].int.map { .milliseconds($0) }))
        }
        return jobs
    }

    /// Hands back jobs this worker holds but is not running.
    private func handBackOrphans(_ connection: RedisConnection) async throws {
        let held = try await connection.send("HGETALL", keys.held(worker)).array?.compactMap(\.string) ?? []
        let running = inFlight.withLock { Set($0.keys) }
        var arguments: [any RedisArgument] = [keys.jobPrefix]
        for pair in stride(from: 0, to: held.count - 1, by: 2) where !running.contains(held[pair]) {
            arguments += [held[pair], held[pair + 1]]
        }
        guard arguments.count > 1 else { return }
        let count = try await connection.run(QueueScripts.requeueJobs.script, keys: [keys.held(worker), keys.ready],
                                             arguments: arguments).int ?? 0
        logger.warning("handed back \(count) orphaned jobs after a lost claim reply")
    }

    /// Waits for in-flight jobs up to the grace period, then hands the rest back to ready and
    /// cancels them.
    private func drain() async {
        let deadline = ContinuousClock.now + configuration.shutdownGrace
        while !inFlight.withLock({ $0.isEmpty }) && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        let remaining = inFlight.withLock { $0 }
        guard !remaining.isEmpty else { return }
        var arguments: [any RedisArgument] = [keys.jobPrefix]
        for (id, entry) in remaining { arguments += [id, entry.attempt] }
        do {
            let count = try await redis.run(QueueScripts.requeueJobs.script, keys: [keys.held(worker), keys.ready], arguments: arguments)
            logger.info("shutdown: handed back \(count.int ?? 0) unfinished jobs")
        } catch {
            logger.warning("shutdown: could not hand back \(remaining.count) jobs (\(error)); the reaper will recover them")
        }
        remaining.values.forEach { $0.task?.cancel() }
        // Handlers honour cancellation; one that does not is abandoned after a short wait.
        let abandon = ContinuousClock.now + .seconds(2)
        while !inFlight.withLock({ $0.isEmpty }) && ContinuousClock.now < abandon {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    // MARK: - Running one job

    private func execute(_ job: Job, timeout: Duration) async {
        let metrics = self.metrics.of(job.type)
        metrics.started.increment()
        metrics.waited.recordMilliseconds(max(0, job.startedAt - job.enqueuedAt))
        let started = ContinuousClock.now
        let definition = definitions[job.type]
        let outcome: JobOutcome?
        if let definition {
            outcome = await runHandler(definition, job, timeout: timeout)
        } else {
            outcome = .discard(reason: "unknown job type '\(job.type)': no handler for it in this worker's catalog")
        }
        let ran = (ContinuousClock.now - started).components
        metrics.ran.recordNanoseconds(ran.seconds * 1_000_000_000 + ran.attoseconds / 1_000_000_000)
        defer { inFlight.withLock { _ = $0.removeValue(forKey: job.id) } }
        guard let outcome else {  // stopped by shutdown: handed back, nothing to report
            slots.give()
            return
        }
        // The handler is done: its slot can take the next job while the ack travels, unless
        // too many acks are already waiting. The ack's round trip would otherwise idle the slot.
        let early = state.withLock { state in
            guard state.awaitingAck < concurrency else { return false }
            state.awaitingAck += 1
            return true
        }
        if early { slots.give() }
        defer {
            if early { state.withLock { $0.awaitingAck -= 1 } } else { slots.give() }
        }
        if case .completed = outcome {
            switch await deliver(job, { try await self.acknowledger.complete(id: job.id, attempt: job.attempt) }) {
            case 1?: metrics.completed.increment()
            case let code?: leaseLost(job, operation: "completeJobs", code: code)
            case nil: break
            }
            return
        }
        let (mode, delay): (String, Duration) = switch outcome {
        case .retry(let after, _):
            ("retry", (after ?? (definition?.policy ?? JobPolicy()).backoff(afterAttempt: job.attempt)).scaled(configuration.timeScale))
        case .snooze(let delay): ("snooze", delay.scaled(configuration.timeScale))
        default: ("dead", .zero)
        }
        let command = RedisCommand.script(
            QueueScripts.failJob.script, keys: [keys.held(worker), keys.job(job.id), keys.delayed, keys.dead, keys.stats],
            arguments: [job.id, job.attempt, mode, max(0, delay.milliseconds), String(outcome.reason.prefix(2000))])
        switch await deliver(job, { try await self.acknowledger.submit(command).int }) {
        case 1?:
            metrics.failed.increment()
            metrics.retried.increment()
            logger(for: job).info("attempt \(job.attempt) failed, will retry: \(outcome.reason)")
        case 2?:
            logger(for: job).debug("snoozed")
        case 3?:
            metrics.failed.increment()
            metrics.dead.increment()
            logger(for: job).warning("dead after attempt \(job.attempt) of \(job.maxAttempts): \(outcome.reason)")
        case let code?:
            leaseLost(job, operation: "failJob", code: code)
        case nil:
            break
        }
    }

    private func leaseLost(_ job: Job, operation: String, code: Int?) {
        guard code == -1 || code == -2 else {
            logger(for: job).error("\(operation) answered \(code.map(String.init) ?? "nothing")")
            return
        }
        logger(for: job).warning("""
            lease lost for job \(job.id) in \(operation) (attempt \(job.attempt), worker \(worker)): \\
            it was recovered by another worker; this result is discarded
            """)
    }

    /// Only built when something is logged: metadata per job on the hot path would cost more
    /// than the job.
    private func logger(for job: Job) -> Logger {
        var logger = self.logger
        logger[metadataKey: "job.id"] = "\(job.id)"
        logger[metadataKey: "job.type"] = "\(job.type)"
        logger[metadataKey: "job.attempt"] = "\(job.attempt)"
        return logger
    }

    /// Runs the handler. nil: stopped by shutdown (the job was handed back).
    private func runHandler(_ definition: JobDefinition, _ job: Job, timeout: Duration) async -> JobOutcome? {
        do {
            return try await definition.handler.run(job)
        } catch let error as PermanentJobError {
            return .discard(reason: error.reason)
        } catch {
            if inFlight.withLock({ $0[job.id]?.timedOut ?? false }) {
                return .retry(after: nil, reason: "timed out after \(timeout)")
            }
            if error is CancellationError {
                return isStopping ? nil : .retry(after: nil, reason: "the handler was cancelled")
            }
            return .retry(after: nil, reason: "\(error)")
        }
    }

    /// Delivers an ack, retrying while Redis is unreachable. A retry after a lost reply may be
    /// refused because the first one landed; that is logged like any fenced ack. nil: given up
    /// at shutdown (the reaper will recover the job).
    private func deliver(_ job: Job, _ send: () async throws -> Int?) async -> Int?? {
        var pause = Pause()
        while true {
            do {
                return .some(try await send())
            } catch {
                let giveUp = state.withLock { state in state.giveUpAt.map { ContinuousClock.now > $0 } ?? false }
                if giveUp {
                    logger(for: job).warning("shutdown: ack not delivered (\(error)); the reaper will recover the job")
                    return nil
                }
                logger(for: job).warning("ack failed, retrying: \(error)")
                await pause.wait()
            }
        }
    }
}

extension JobOutcome {
    var reason: String {
        switch self {
        case .completed: "completed"
        case .retry(_, let reason): reason
        case .snooze(let delay): "snoozed for \(delay)"
        case .discard(let reason): reason
        }
    }
}
