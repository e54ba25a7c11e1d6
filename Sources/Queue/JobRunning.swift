import Logging
import Metrics
import RedisClient
import Synchronization

/// Running one job on a lane: its handler (or the unknown-type hand-back), its outcome turned
/// into an ack, and its handler slot given back early while the ack travels.
extension QueueProcessor {
    func execute(_ assignment: Lanes.Assignment, lane: Int, _ acknowledger: Acknowledger) async {
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
            outcome = handBack(job, reason: "unknown job type '\(job.type)': no handler for it in this worker's catalog")
        }
        let ran = ContinuousClock.now - started
        metrics.ran.recordNanoseconds(ran.components.seconds * 1_000_000_000 + ran.components.attoseconds / 1_000_000_000)
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
            acknowledger.send(.init(job: job, kind: .completion(ran: ran), early: early))
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

    /// Runs the handler. nil: stopped by shutdown (the job was handed back).
    func runHandler(_ definition: JobDefinition, _ job: Job, ticket: Int) async -> JobOutcome? {
        do {
            return try await definition.handler.run(job)
        } catch let error as PermanentJobError {
            return .discard(reason: error.reason)
        } catch let error as NewerPayloadError {
            return handBack(job, reason: error.description)
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

    /// A type this build does not know, or a payload version newer than its handler reads, is
    /// most likely a newer build's, met during a rolling deploy or beside a beta: the job goes
    /// back (a snooze, no attempt used) for a worker that knows it, and is buried only when none
    /// has come for `unknownTypeBound`.
    func handBack(_ job: Job, reason: String) -> JobOutcome {
        let waited = Duration.milliseconds(max(0, job.startedAt - job.enqueuedAt))
        guard waited < configuration.unknownTypeBound.scaled(configuration.timeScale) else {
            return .discard(reason: reason + " for \(configuration.unknownTypeBound) since its enqueue")
        }
        metrics.unknownType(job.type)
        logger(for: job).warning("\(reason); handed back for a worker that knows it")
        return .snooze(configuration.unknownTypeRetry)
    }

    /// Frees the job's row: its handler has returned.
    func finish(_ ticket: Int) {
        claimed.withLock { claimed in
            claimed.rows[ticket] = nil
            claimed.freeTickets.append(ticket)
        }
    }

    /// The job's attempt timeout: its own, else its type's, else the default.
    func timeout(of job: Job) -> Duration {
        job.timeout ?? definitions[job.type]?.policy.timeout ?? JobPolicy.defaultTimeout
    }

    /// Only built when something is logged: metadata per job on the hot path would cost more
    /// than the job.
    func logger(for job: Job) -> Logger {
        var logger = self.logger
        logger[metadataKey: "job.id"] = "\(job.id)"
        logger[metadataKey: "job.type"] = "\(job.type)"
        logger[metadataKey: "job.attempt"] = "\(job.attempt)"
        return logger
    }
}
