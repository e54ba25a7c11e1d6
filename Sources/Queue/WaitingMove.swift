import RedisClient

/// Moving what waits on one queue to another: a rolled-back beta's jobs to production's queues,
/// so none is left where no worker will come. Three steps, since the two queues live in
/// different slots: `takeWaiting` (out of reach of workers, into the source's moving list),
/// an enqueue on the target under a dedup key (the job's own, else `moved:<id>`: a repeated step
/// creates nothing), `dropMoved`. A mover that dies midway leaves the jobs in the moving list, and
/// the next move resumes with them. A moved job starts its attempts afresh; jobs a worker holds
/// are not moved (their worker finishes them).
extension JobQueue {
    /// Moves every job waiting (ready or scheduled) on `source` to `target`, keeping its type,
    /// payload, attempts allowed, timeout, priority and run-at. Returns how many moved.
    public func moveWaiting(from source: String, to target: String, batch: Int = 500) async throws -> Int {
        let from = Keys(queue: source)
        var moved = 0
        while true {
            let reply = try await QueueScripts.takeWaiting.run(on: redis, from, arguments: [batch, from.jobPrefix]).array ?? []
            guard let now = reply.last?.int, reply.count > 1 else { return moved }
            var ids: [String] = []
            var requests: [Request] = []
            for start in stride(from: 0, to: reply.count - 1, by: 8) {
                let fields = reply[start..<start + 8].map { $0.string ?? "" }
                var policy = JobPolicy()
                policy.queue = target
                policy.maxAttempts = Int(fields[3]) ?? policy.maxAttempts
                policy.timeout = Int64(fields[4]).map { .milliseconds($0) } ?? policy.timeout
                policy.priority = JobPolicy.Priority(rawValue: fields[6]) ?? .normal
                policy.dedupWindow = .seconds(86_400)
                let delay = Int64(fields[5]).map { Duration.milliseconds(max(0, $0 - Int64(now))) } ?? .zero
                ids.append(fields[0])
                requests.append(Request(type: fields[1], payload: fields[2], policy: policy, delay: delay,
                                        dedupKey: fields[7].isEmpty ? "moved:\(fields[0])" : fields[7]))
            }
            // Straight to the target queue: this queue's own channel routing does not apply.
            _ = try await JobQueue(redis: redis).enqueue(batch: requests)
            moved += try await QueueScripts.dropMoved.run(on: redis, from, arguments: [from.prefix] + ids).int ?? 0
        }
    }
}
