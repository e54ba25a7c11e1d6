import Logging
import Metrics
import RedisClient
import Synchronization

/// Runs one queue inside a worker process: one blocking fetch loop claiming a job per free
/// handler slot and handing it to one of `concurrency` lanes (`Lanes`), acks sent in batches
/// (`Acknowledger`), plus the queue's heartbeat, reaper and scheduler.
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
    private let lanes: Lanes
    private let executor: QueueExecutor
    /// The jobs this process has claimed and not finished, and the lanes running them.
    private let claimed: Mutex<Claimed>
    private let state = Mutex(State())

    /// A claimed job, from its claim until its handler returns (its ack may still be on its way).
    private struct Running {
        let id: String
        /// The run's token, what a hand-back presents (`claimJobs.lua`).
        let fence: Int
        let deadline: ContinuousClock.Instant
        /// The lane running it; nil while it waits for one.
        var lane: Int?
        /// Set by the watchdog before it cancels the lane, so the outcome says "timed out".
        var timedOut = false
        /// Set when the handler ignored that cancellation past `stuckGrace` and the job was
        /// released in Redis for another worker.
        var released = false
    }

    /// Rows indexed by ticket, so the hot path neither hashes job ids nor allocates: at most
    /// `concurrency` jobs are claimed and unfinished, since each holds a handler slot.
    private struct Claimed {
        var rows: [Running?]
        var freeTickets: [Int]
        var lanes: [Task<Void, Never>?]

        init(concurrency: Int) {
            rows = Array(repeating: nil, count: concurrency)
            freeTickets = Array((0..<concurrency).reversed())
            lanes = Array(repeating: nil, count: concurrency)
        }

        var isEmpty: Bool { freeTickets.count == rows.count }
        var running: [Running] { rows.compactMap { $0 } }
    }

    private struct State {
        var stopping = false
        /// Jobs whose handler slot was given back before their ack landed (at most the queue's
        /// concurrency, so acks waiting on a slow Redis cannot pile up without bound).
        var awaitingAck = 0
        /// Acks sent and not yet settled (landed, or given up at shutdown).
        var unsettled = 0
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
        let concurrency = configuration.concurrency[queue] ?? 1
        slots = Slots(concurrency)
        lanes = Lanes(count: concurrency)
        claimed = Mutex(Claimed(concurrency: concurrency))
        executor = QueueExecutor(queue: queue)
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
        let acknowledger = Acknowledger(executor: executor, configuration: redisConfiguration, keys: keys, worker: worker,
                                        retention: configuration.completedRetention, keep: configuration.completedKeep) {
            self.settle($0, $1)
        }
        for lane in 0..<concurrency { startLane(lane, acknowledger) }
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
                if orphansSuspected { orphansSuspected = try await !handBackOrphans(connection) }
                let jobs = try await claim(connection, count: room)
                if jobs.count < room { slots.give(room - jobs.count) }
                for job in jobs { hand(job) }
                // Handlers that finish at once (their lanes are queued behind this loop on the
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

    /// Enters a claimed job in the table and gives it to a lane.
    private func hand(_ job: Job) {
        let timeout = timeout(of: job)
        let ticket = claimed.withLock { claimed in
            let ticket = claimed.freeTickets.removeLast()  // a slot was taken for this job, so a ticket is free
            claimed.rows[ticket] = Running(id: job.id, fence: job.fence, deadline: .now + timeout)
            return ticket
        }
        lanes.hand(Lanes.Assignment(job: job, ticket: ticket))
    }

    /// The job's attempt timeout: its own, else its type's, else the default.
    private func timeout(of job: Job) -> Duration {
        job.timeout ?? definitions[job.type]?.policy.timeout ?? JobPolicy.defaultTimeout
    }

    /// Starts the lane (again, after a cancellation ended the one before). Created under the
    /// lock, so the watchdog never sees a job on a lane whose task it does not know.
    private func startLane(_ lane: Int, _ acknowledger: Acknowledger) {
        claimed.withLock { claimed in
            claimed.lanes[lane] = Task(executorPreference: executor) {
                await self.runLane(lane, acknowledger)
            }
        }
    }

    private func runLane(_ lane: Int, _ acknowledger: Acknowledger) async {
        while let assignment = await lanes.next() {
            await execute(assignment, lane: lane, acknowledger)
            // Cancellation sticks to a task: a lane cancelled for its job's timeout or for
            // shutdown would hand every later job a cancelled context. It gives way to a new one.
            if Task.isCancelled {
                if !isStopping { startLane(lane, acknowledger) }
                return
            }
        }
    }

    /// Cancels jobs past their deadline, checking every 10 ms, and releases those whose handler
    /// ignores the cancellation past `stuckGrace`.
    private func watchTimeouts() async {
        let stuckGrace = configuration.stuckGrace.scaled(configuration.timeScale)
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(10))
            let now = ContinuousClock.now
            let stuck: [Running] = claimed.withLock { claimed in
                var stuck: [Running] = []
                for ticket in claimed.rows.indices {
                    guard let row = claimed.rows[ticket], row.deadline < now, let lane = row.lane else { continue }
                    if !row.timedOut {
                        claimed.rows[ticket]?.timedOut = true
                        // Under the lock: the lane cannot move on to its next job in between.
                        claimed.lanes[lane]?.cancel()
                    } else if !row.released, row.deadline + stuckGrace < now {
                        claimed.rows[ticket]?.released = true
                        stuck.append(row)
                    }
                }
                return stuck
            }
            for row in stuck { await release(row) }
        }
    }

    /// Fails a stuck run's job as timed out (a retry, or dead when out of attempts), so another
    /// worker can run it. Its held entry goes with it: the stuck handler's late ack is refused.
    /// Its slot stays taken until the handler returns.
    private func release(_ row: Running) async {
        let reason = "stuck: still running \(configuration.stuckGrace.scaled(configuration.timeScale)) after its timeout; released"
        do {
            let code = try await redis.pipeline([
                WorkerCommands.fail(keys, worker: worker, job: row.id, fence: row.fence, mode: "retry", delay: .zero, reason: reason),
            ])[0].get()
            logger.error("job \(row.id) ignored its timeout's cancellation; released for another worker (failJob \(code.int ?? 0))",
                         metadata: ["job.id": "\(row.id)", "job.queue": "\(keys.queue)"])
        } catch {
            logger.warning("could not release stuck job \(row.id): \(error)", metadata: ["job.id": "\(row.id)"])
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
            WorkerCommands.claim(keys, worker: worker, count: count),
        ], blocking: block)
        // What the claim took is returned even if BLMOVE failed: jobs claimed and dropped here
        // would sit in the held hash until the orphan hand-back.
        let claimed = WorkerCommands.claimed(in: try replies[1].get(), queue: keys.queue)
        if claimed.isEmpty { _ = try replies[0].get() }
        return claimed
    }

    /// Hands back jobs this worker holds but is neither running nor acknowledging. Waits for
    /// the acks on their way first: a job whose ack has not landed is still held, and handed
    /// back it would run again. Returns false when it must be tried again (an ack set off while
    /// the held hash was read).
    private func handBackOrphans(_ connection: RedisConnection) async throws -> Bool {
        // Stopping: the fetch loop ends, and the reaper recovers what is left once we retire.
        guard await waitForAcks(unlessStopping: true) else { return true }
        let held = try await connection.send("HGETALL", keys.held(worker)).array?.compactMap(\.string) ?? []
        // In this order: a handler that returns counts its ack as unsettled before it leaves the
        // running set, so a job missing from the set read first shows in the count read second.
        // (An ack that lands meanwhile deletes its held entry, and requeueJobs's fence check
        // then leaves the job alone.)
        let running = claimed.withLock { Set($0.running.map(\.id)) }
        guard state.withLock({ $0.unsettled == 0 }) else { return false }
        var arguments: [any RedisArgument] = [keys.jobPrefix]
        for pair in stride(from: 0, to: held.count - 1, by: 2) where !running.contains(held[pair]) {
            arguments += [held[pair], held[pair + 1]]
        }
        guard arguments.count > 1 else { return true }
        let count = try await connection.run(QueueScripts.requeueJobs.script, keys: [keys.held(worker), keys.ready],
                                             arguments: arguments).int ?? 0
        logger.warning("handed back \(count) orphaned jobs after a lost claim reply")
        return true
    }

    /// Lets in-flight jobs finish or hands them back, waits for the acks on their way, and ends
    /// the lanes.
    private func drain() async {
        await finishOrHandBack()
        await waitForAcks()
        lanes.close()
    }

    /// Waits for in-flight jobs up to the grace period, then hands the rest back to ready and
    /// cancels them.
    private func finishOrHandBack() async {
        let deadline = ContinuousClock.now + configuration.shutdownGrace
        while !claimed.withLock({ $0.isEmpty }) && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        let remaining = claimed.withLock { $0.running }
        guard !remaining.isEmpty else { return }
        var arguments: [any RedisArgument] = [keys.jobPrefix]
        for entry in remaining { arguments += [entry.id, entry.fence] }
        do {
            let count = try await redis.run(QueueScripts.requeueJobs.script, keys: [keys.held(worker), keys.ready], arguments: arguments)
            logger.info("shutdown: handed back \(count.int ?? 0) unfinished jobs")
        } catch {
            logger.warning("shutdown: could not hand back \(remaining.count) jobs (\(error)); the reaper will recover them")
        }
        claimed.withLock { claimed in
            for lane in Set(claimed.running.compactMap(\.lane)) { claimed.lanes[lane]?.cancel() }
        }
        // Handlers honour cancellation; one that does not is abandoned after a short wait.
        let abandon = ContinuousClock.now + .seconds(2)
        while !claimed.withLock({ $0.isEmpty }) && ContinuousClock.now < abandon {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Waits until every ack sent has landed or been given up (which `settle` does once past
    /// `giveUpAt`). With `unlessStopping`, returns false as soon as the processor is stopping.
    @discardableResult
    private func waitForAcks(unlessStopping: Bool = false) async -> Bool {
        while state.withLock({ $0.unsettled > 0 }) {
            if unlessStopping && isStopping { return false }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return true
    }

    // MARK: - Running one job

    private func execute(_ assignment: Lanes.Assignment, lane: Int, _ acknowledger: Acknowledger) async {
        let job = assignment.job
        claimed.withLock { $0.rows[assignment.ticket]?.lane = lane }
        let metrics = self.metrics.of(job.type)
        metrics.started.increment()
        metrics.waited.recordMilliseconds(max(0, job.startedAt - job.enqueuedAt))
        let started = ContinuousClock.now
        let definition = definitions[job.type]
        let outcome: JobOutcome?
        if let definition {
            outcome = await runHandler(definition, job, ticket: assignment.ticket)
        } else {
            outcome = unknownType(job)
        }
        let ran = (ContinuousClock.now - started).components
        metrics.ran.recordNanoseconds(ran.seconds * 1_000_000_000 + ran.attoseconds / 1_000_000_000)
        guard let outcome else {  // stopped by shutdown: handed back, nothing to report
            finish(assignment.ticket)
            slots.give()
            return
        }
        // The handler is done: its slot can take the next job while the ack travels, unless
        // too many acks are already waiting. The ack's round trip would otherwise idle the slot.
        let early = state.withLock { state in
            state.unsettled += 1
            guard state.awaitingAck < concurrency else { return false }
            state.awaitingAck += 1
            return true
        }
        finish(assignment.ticket)
        if early { slots.give() }
        if case .completed = outcome {
            acknowledger.send(.init(job: job, kind: .completion, early: early))
            return
        }
        let (mode, delay): (String, Duration) = switch outcome {
        case .retry(let after, _):
            ("retry", (after ?? (definition?.policy ?? JobPolicy()).backoff(afterAttempt: job.attempt)).scaled(configuration.timeScale))
        case .snooze(let delay): ("snooze", delay.scaled(configuration.timeScale))
        default: ("dead", .zero)
        }
        let command = WorkerCommands.fail(keys, worker: worker, job: job.id, fence: job.fence, mode: mode, delay: delay,
                                          reason: outcome.reason)
        acknowledger.send(.init(job: job, kind: .failure(command, reason: outcome.reason), early: early))
    }

    /// A type this build does not know is most likely a newer build's, met during a rolling
    /// deploy: the job goes back (a snooze, no attempt used) for a worker that knows it, and is
    /// buried only when none has come for `unknownTypeBound`.
    private func unknownType(_ job: Job) -> JobOutcome {
        let waited = Duration.milliseconds(max(0, job.startedAt - job.enqueuedAt))
        let reason = "unknown job type '\(job.type)': no handler for it in this worker's catalog"
        guard waited < configuration.unknownTypeBound.scaled(configuration.timeScale) else {
            return .discard(reason: reason + " for \(configuration.unknownTypeBound) since its enqueue")
        }
        metrics.unknownType(job.type)
        logger(for: job).warning("\(reason); handed back for a worker that knows it")
        return .snooze(configuration.unknownTypeRetry)
    }

    /// Frees the job's row: its handler has returned.
    private func finish(_ ticket: Int) {
        claimed.withLock { claimed in
            claimed.rows[ticket] = nil
            claimed.freeTickets.append(ticket)
        }
    }

    /// An ack's reply arrived, or its delivery failed: reports it, or sends it again after a
    /// pause while Redis is unreachable. A retry after a lost reply may be refused because the
    /// first one landed; that is logged like any fenced ack. Past `giveUpAt` (shutdown) it stops
    /// trying: the reaper will recover the job.
    /// Returns true to have the ack sent again.
    private func settle(_ ack: Acknowledger.Ack, _ result: Result<RedisValue, any Error>) -> Bool {
        switch result {
        case .success(let reply):
            report(ack, code: reply.int)
        case .failure(let error):
            let giveUp = state.withLock { state in state.giveUpAt.map { ContinuousClock.now > $0 } ?? false }
            guard giveUp else {
                logger(for: ack.job).warning("ack failed, retrying: \(error)")
                return true
            }
            logger(for: ack.job).warning("shutdown: ack not delivered (\(error)); the reaper will recover the job")
        }
        state.withLock { state in
            state.unsettled -= 1
            if ack.early { state.awaitingAck -= 1 }
        }
        if !ack.early { slots.give() }
        return false
    }

    private func report(_ ack: Acknowledger.Ack, code: Int?) {
        let job = ack.job
        let metrics = self.metrics.of(job.type)
        guard case .failure(_, let reason) = ack.kind else {
            if code == 1 { metrics.completed.increment() } else { leaseLost(job, operation: "completeJobs", code: code) }
            return
        }
        switch code {
        case 1:
            metrics.failed.increment()
            metrics.retried.increment()
            logger(for: job).info("attempt \(job.attempt) failed, will retry: \(reason)")
        case 2:
            logger(for: job).debug("snoozed")
        case 3:
            metrics.failed.increment()
            metrics.dead.increment()
            logger(for: job).warning("dead after attempt \(job.attempt) of \(job.maxAttempts): \(reason)")
        default:
            leaseLost(job, operation: "failJob", code: code)
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
    private func runHandler(_ definition: JobDefinition, _ job: Job, ticket: Int) async -> JobOutcome? {
        do {
            return try await definition.handler.run(job)
        } catch let error as PermanentJobError {
            return .discard(reason: error.reason)
        } catch {
            if claimed.withLock({ $0.rows[ticket]?.timedOut ?? false }) {
                return .retry(after: nil, reason: "timed out after \(timeout(of: job))")
            }
            // The queue's own Redis unreachable or full (OOM under noeviction): the job could not
            // do its work through no fault of its own, and spending its attempts would bury it
            // (a chaos run's Redis-full spell sent a callback's managers' message to dead this way).
            // It waits, its attempt given back, for as long as the outage lasts.
            if let redis = error as? RedisError, redis.isTemporary || redis.serverErrorKind == "OOM" {
                return .snooze(definition.policy.backoff(afterAttempt: job.attempt))
            }
            if error is CancellationError {
                return isStopping ? nil : .retry(after: nil, reason: "the handler was cancelled")
            }
            return .retry(after: nil, reason: "\(error)")
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
