import Logging
import Metrics
import RedisClient
import Synchronization

/// The timeout watcher: cancels a handler past its timeout, and releases in Redis the job of one
/// that ignores the cancellation for `stuckGrace`, so it is not held for ever.
extension QueueProcessor {
    /// Cancels jobs past their deadline, checking every 10 ms, and releases those whose handler
    /// ignores the cancellation past `stuckGrace`.
    func watchTimeouts() async {
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
    func release(_ row: Running) async {
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
}
