import Logging
import Metrics
import RedisClient
import Synchronization

/// Ack settlement: each ack's reply reported (metrics, logs, a lost lease), or the ack sent again
/// while Redis is unreachable, given up past the shutdown deadline.
extension QueueProcessor {
    /// An ack's reply arrived, or its delivery failed: reports it, or sends it again after a
    /// pause while Redis is unreachable. A retry after a lost reply may be refused because the
    /// first one landed; that is logged like any fenced ack. Past `giveUpAt` (shutdown) it stops
    /// trying: the reaper will recover the job.
    /// Returns true to have the ack sent again.
    func settle(_ ack: Acknowledger.Ack, _ result: Result<RedisValue, any Error>) -> Bool {
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

    func report(_ ack: Acknowledger.Ack, code: Int?) {
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

    func leaseLost(_ job: Job, operation: String, code: Int?) {
        guard code == -1 || code == -2 else {
            logger(for: job).error("\(operation) answered \(code.map(String.init) ?? "nothing")")
            return
        }
        logger(for: job).warning("""
            lease lost for job \(job.id) in \(operation) (attempt \(job.attempt), worker \(worker)): \\
            it was recovered by another worker; this result is discarded
            """)
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
