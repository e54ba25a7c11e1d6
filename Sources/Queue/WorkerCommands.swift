import RedisClient

/// The commands a worker sends for every job, and the reading of the claim's reply, in one
/// place: the fetch loop and the acknowledger send them, and `make bench` drives them alone to
/// measure what a job costs Redis with no wake-ups in the way.
public enum WorkerCommands {
    /// `claimJobs`: up to `count` jobs for `worker`, first what its `BLMOVE` landed, then from
    /// ready; each marked active and entered in the worker's held hash.
    public static func claim(_ keys: Keys, worker: String, count: Int) -> RedisCommand {
        QueueScripts.claimJobs.command(keys, .init(worker: worker), arguments: [keys.jobPrefix, worker, count])
    }

    /// Whether a `claimJobs` reply says the queue is paused (it took nothing).
    public static func saysPaused(_ reply: RedisValue) -> Bool {
        guard let items = reply.array, items.count == 1 else { return false }
        return items[0].string == "paused"
    }

    /// The jobs in a `claimJobs` reply (9 entries each).
    public static func claimed(in reply: RedisValue, queue: String) -> [Job] {
        let items = reply.array ?? []
        var jobs: [Job] = []
        jobs.reserveCapacity(items.count / 9)
        for base in stride(from: 0, to: items.count - 8, by: 9) {
            jobs.append(Job(
                id: items[base].string ?? "", type: items[base + 1].string ?? "", queue: queue,
                payload: items[base + 2].bytes ?? [], attempt: items[base + 3].int ?? 0, maxAttempts: items[base + 4].int ?? 0,
                enqueuedAt: Int64(items[base + 5].int ?? 0), startedAt: Int64(items[base + 6].int ?? 0),
                timeout: items[base + 7].int.map { .milliseconds($0) }, fence: items[base + 8].int ?? 0))
        }
        return jobs
    }

    /// `completeJobs` for jobs `worker` holds: one call for the batch, records kept for
    /// `retention`, at most `keep` of them. Its reply has one code per job, in order.
    public static func complete(_ keys: Keys, worker: String, retention: Duration, keep: Int,
                                runs: some Collection<(job: Job, ran: Duration)>) -> RedisCommand {
        var arguments: [any RedisArgument] = [keys.jobPrefix, retention.milliseconds, keep]
        arguments.reserveCapacity(3 + runs.count * 3)
        for run in runs { arguments += [run.job.id, run.job.fence, RunTimeHistogram.field(type: run.job.type, run.ran)] }
        return QueueScripts.completeJobs.command(keys, .init(worker: worker), arguments: arguments)
    }

    /// `failJob` for one run of a job `worker` holds: retried, snoozed or dead by `mode`, the
    /// next run after `delay`, `reason` kept as its last error (at most 2000 characters, phone
    /// numbers masked: Redis keeps no number a provider's refusal named).
    public static func fail(_ keys: Keys, worker: String, job id: String, fence: Int, mode: String, delay: Duration,
                            reason: String) -> RedisCommand {
        QueueScripts.failJob.command(keys, .init(worker: worker, job: id), arguments: [id, fence, mode, max(0, delay.milliseconds), PhoneMask.maskNumbers(in: String(reason.prefix(2000)))])
    }
}
