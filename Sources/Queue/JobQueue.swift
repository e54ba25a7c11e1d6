import Foundation
import Metrics
import RedisClient

/// The producer and operator side of the engine: enqueue, stats, and dead-job handling.
/// An enqueue returns only after Redis accepted it (with `appendfsync always`, after it is on disk).
public final class JobQueue: Sendable {
    let redis: RedisPool
    /// `REDIAL_TIME_SCALE`: multiplies enqueue delays.
    public let timeScale: Double
    /// The release channel its enqueues go to: a beta worker's follow-up jobs stay on beta's
    /// queues. Requests already routed elsewhere (`Request.routed(to:)`) keep their queue.
    public let channel: WorkerRelease.Channel
    private let knownQueues = KnownQueues()

    public init(redis: RedisPool, timeScale: Double = 1, channel: WorkerRelease.Channel = .production) {
        self.redis = redis
        self.timeScale = timeScale
        self.channel = channel
    }

    public struct Request: Sendable {
        public var type: String
        /// JSON text; checked to parse before it is stored.
        public var payload: String
        public var policy: JobPolicy
        public var delay: Duration
        /// With `policy.dedupWindow`, a second enqueue of the same key inside it returns the first id.
        public var dedupKey: String?

        /// The same job on a release channel's queue (`callbacks` → `callbacks@beta`).
        public func routed(to channel: WorkerRelease.Channel) -> Request {
            var routed = self
            routed.policy.queue = channel.queue(policy.queue)
            return routed
        }

        public init(type: String, payload: String = "{}", policy: JobPolicy, delay: Duration = .zero, dedupKey: String? = nil) {
            self.type = type
            self.payload = payload
            self.policy = policy
            self.delay = delay
            self.dedupKey = dedupKey
        }

        /// A request whose payload is `payload` encoded as JSON (keys sorted, so equal payloads are equal text).
        public init(type: String, encoding payload: some Encodable, policy: JobPolicy, delay: Duration = .zero,
                    dedupKey: String? = nil) throws {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            self.init(type: type, payload: String(decoding: try encoder.encode(payload), as: UTF8.self), policy: policy, delay: delay,
                      dedupKey: dedupKey)
        }
    }

    public struct Receipt: Sendable, Equatable {
        public let id: String
        /// False when a job with the same dedup key already existed inside the window.
        public let created: Bool
    }

    public func enqueue(_ request: Request) async throws -> Receipt {
        try await enqueue(batch: [request])[0]
    }

    /// Enqueues many jobs in one round trip: one `enqueueJobs` call per queue in the batch
    /// (atomic per queue), up to `maximumBatch` jobs a call.
    public func enqueue(batch requests: [Request]) async throws -> [Receipt] {
        let requests = channel == .production ? requests
            : requests.map { WorkerRelease.Channel(queue: $0.policy.queue) == .production ? $0.routed(to: channel) : $0 }
        for request in requests { try validate(request) }
        for queue in Set(requests.map(\.policy.queue)) where await knownQueues.insert(queue) {
            try await redis.send("SADD", Keys.queues, queue)
        }
        // Group by queue, keeping each job's position so receipts come back in request order.
        var groups: [(queue: String, indices: [Int])] = []
        for (index, request) in requests.enumerated() {
            if let group = groups.firstIndex(where: { $0.queue == request.policy.queue && $0.indices.count < Self.maximumBatch }) {
                groups[group].indices.append(index)
            } else {
                groups.append((request.policy.queue, [index]))
            }
        }
        let commands: [RedisCommand] = groups.map { group in
            let keys = Keys(queue: group.queue)
            var arguments: [any RedisArgument] = [keys.prefix]
            arguments.reserveCapacity(1 + 7 + group.indices.count * 3)
            // Consecutive jobs with the same settings form one run (in order, so the queue's
            // order is the requests' order): its settings are sent once.
            let indices = group.indices
            var start = 0
            while start < indices.count {
                let run = self.settings(requests[indices[start]])
                var end = start + 1
                while end < indices.count, self.settings(requests[indices[end]]) == run { end += 1 }
                arguments += [end - start] as [any RedisArgument] + run.arguments
                for index in indices[start..<end] {
                    let request = requests[index]
                    arguments += [JobID.make(), request.payload, request.policy.dedupWindow == nil ? "" : (request.dedupKey ?? "")]
                }
                start = end
            }
            return QueueScripts.enqueueJobs.command(keys, arguments: arguments)
        }
        let replicas = max(redis.configuration.replicas, requests.map(\.policy.replicas).max() ?? 0)
        var replies: [RedisValue]
        if replicas > 0 {
            // WAIT counts the writes of its own connection: the same one, in the same round trip,
            // after each queue's write (on a Redis Cluster the queues may be on different masters).
            let timeout = redis.configuration.replicaTimeout
            let wait = RedisCommand.command(["WAIT", replicas, Int(timeout.milliseconds)])
            let answers = try await redis.withConnection { connection in
                try await connection.pipeline(commands.flatMap { [$0, wait] })
            }
            replies = stride(from: 0, to: answers.count, by: 2).map { answers[$0] }
            let reached = stride(from: 1, to: answers.count, by: 2).map { answers[$0].int ?? 0 }.min() ?? 0
            if reached < replicas {
                Counter(label: "redial_enqueues_not_replicated_total").increment()
                throw QueueError(.notReplicated, "enqueue of \(requests.count) job(s) reached \(reached) of \(replicas) replica(s) within "
                    + "\(timeout.milliseconds) ms: not acknowledged (retried, a job with a dedup key stays one job)")
            }
        } else {
            replies = try await redis.pipeline(commands)
        }
        var receipts = [Receipt?](repeating: nil, count: requests.count)
        var enqueued: [[String]: Int] = [:]  // [queue, type] → created jobs
        for (group, reply) in zip(groups, replies) {
            guard let items = try reply.get().array, items.count == group.indices.count * 2 else {
                throw QueueError(.unexpectedReply, "enqueueJobs answered \(reply)")
            }
            for (position, index) in group.indices.enumerated() {
                guard let id = items[position * 2].string, let created = items[position * 2 + 1].int else {
                    throw QueueError(.unexpectedReply, "enqueueJobs answered \(reply)")
                }
                receipts[index] = Receipt(id: id, created: created == 1)
                if created == 1 { enqueued[[group.queue, requests[index].type], default: 0] += 1 }
            }
        }
        // One metric handle per queue and type, not per job: making one takes the metrics lock.
        for (labels, count) in enqueued {
            Counter(label: "redial_jobs_enqueued_total", dimensions: [("queue", labels[0]), ("type", labels[1])]).increment(by: count)
        }
        return receipts.compactMap { $0 }
    }

    /// Jobs per `enqueueJobs` call: large enough to amortise the call, small enough not to
    /// hold Redis for long (a script blocks every other client while it runs).
    static let maximumBatch = 1000

    private func validate(_ request: Request) throws {
        guard Keys.isValidQueueName(request.policy.queue) else {
            throw QueueError(.invalidRequest, "queue name '\(request.policy.queue)': expected 1-64 of A-Z a-z 0-9 . _ -")
        }
        guard !request.type.isEmpty, request.type.utf8.count <= 128 else {
            throw QueueError(.invalidRequest, "job type must be 1-128 bytes, got '\(request.type.prefix(40))'")
        }
        if let problem = JSONCheck.problem(in: request.payload) {
            throw QueueError(.invalidRequest, "payload of \(request.type) job is not valid JSON (\(problem)): \(request.payload.prefix(80))")
        }
        guard request.delay >= .zero else {
            throw QueueError(.invalidRequest, "delay must not be negative, got \(request.delay)")
        }
        if let key = request.dedupKey, key.utf8.count > 512 {
            throw QueueError(.invalidRequest, "dedup key must be at most 512 bytes, got \(key.utf8.count)")
        }
    }

    /// What `enqueueJobs` takes once for a run of jobs: all of a job's arguments but its id,
    /// payload and dedup key.
    private struct RunSettings: Equatable {
        let type: String
        let maxAttempts: Int
        let delayMilliseconds: Int64
        let priority: String
        let dedupWindowMilliseconds: Int64
        let timeoutMilliseconds: Int64

        var arguments: [any RedisArgument] {
            [type, maxAttempts, delayMilliseconds, priority, dedupWindowMilliseconds, timeoutMilliseconds]
        }
    }

    private func settings(_ request: Request) -> RunSettings {
        RunSettings(type: request.type, maxAttempts: request.policy.maxAttempts, delayMilliseconds: request.delay.scaled(timeScale).milliseconds,
                    priority: request.policy.priority.rawValue, dedupWindowMilliseconds: max(request.policy.dedupWindow?.milliseconds ?? 0, 1),
                    timeoutMilliseconds: request.policy.timeout.milliseconds)
    }

    /// Every queue ever enqueued to.
    public func queues() async throws -> [String] {
        try await redis.send("SMEMBERS", Keys.queues).array?.compactMap(\.string).sorted() ?? []
    }

    public func stats(queue: String) async throws -> QueueStats {
        let keys = Keys(queue: queue)
        let replies = try await redis.pipeline([
            .make("LLEN", keys.ready), .make("ZCARD", keys.delayed), .make("ZCARD", keys.dead),
            .make("HMGET", keys.stats, "completed", "failed"), .make("ZRANGE", keys.workers, 0, -1), .make("EXISTS", keys.paused),
        ])
        var stats = QueueStats()
        stats.ready = try replies[0].get().int ?? 0
        stats.delayed = try replies[1].get().int ?? 0
        stats.dead = try replies[2].get().int ?? 0
        let counters = try replies[3].get().array ?? []
        stats.completed = counters.first?.int ?? 0
        stats.failed = counters.dropFirst().first?.int ?? 0
        let workers = try replies[4].get().array?.compactMap(\.string) ?? []
        stats.paused = try replies[5].get().int == 1
        stats.active = try await redis.jobsHeld(by: workers, in: keys)
        return stats
    }

    /// The queue's lifetime counters (`started`, `completed`, `failed`, `dead`, `retried`,
    /// `recovered`, `snoozed`, `enqueued`, …), for comparisons over a window by their deltas.
    public func counters(queue: String) async throws -> [String: Int] {
        let items = try await redis.send("HGETALL", Keys(queue: queue).stats).array ?? []
        var counters: [String: Int] = [:]
        for pair in stride(from: 0, to: items.count - 1, by: 2) {
            if let name = items[pair].string, let value = items[pair + 1].int ?? items[pair + 1].string.flatMap(Int.init) { counters[name] = value }
        }
        return counters
    }

    /// Ids of live workers across the given queues (heartbeat present).
    public func liveWorkers(queues: [String]) async throws -> [String: WorkerRelease?] {
        var live: [String: WorkerRelease?] = [:]
        for queue in queues {
            let keys = Keys(queue: queue)
            let workers = try await redis.send("ZRANGE", keys.workers, 0, -1).array?.compactMap(\.string) ?? []
            if workers.isEmpty { continue }
            let beats = try await redis.send(["MGET"] + workers.map(keys.alive)).array ?? []
            for (worker, beat) in zip(workers, beats) {
                guard let text = beat.string else { continue }  // expired: presumed dead
                live[worker] = WorkerRelease(announcement: text)
            }
        }
        return live
    }

    public func record(queue: String, id: String) async throws -> JobRecord? {
        JobRecord(queue: queue, id: id, hash: try await redis.send("HGETALL", Keys(queue: queue).job(id)))
    }

    /// Finds a job by id in any known queue.
    public func find(id: String) async throws -> JobRecord? {
        for queue in try await queues() {
            if let record = try await record(queue: queue, id: id) { return record }
        }
        return nil
    }

    /// Dead jobs of a queue, most recent first.
    public func dead(queue: String, limit: Int = 100) async throws -> [JobRecord] {
        let ids = try await redis.send("ZRANGE", Keys(queue: queue).dead, "+inf", "-inf", "BYSCORE", "REV", "LIMIT", 0, limit)
            .array?.compactMap(\.string) ?? []
        var records: [JobRecord] = []
        for id in ids {
            if let record = try await record(queue: queue, id: id) { records.append(record) }
        }
        return records
    }

    /// How long the oldest ready job of a queue has been waiting to start (since its enqueue, or
    /// its run-at for a scheduled job or a retry), by Redis's clock; nil when none waits.
    public func oldestReadyAge(queue: String) async throws -> Duration? {
        let keys = Keys(queue: queue)
        let replies = try await redis.pipeline([.make("LINDEX", keys.ready, -1), .make("TIME")])
        guard let id = try replies[0].get().string else { return nil }
        let time = try replies[1].get().array ?? []
        let now = Int64((time.first?.int ?? 0) * 1000 + (time.dropFirst().first?.int ?? 0) / 1000)
        let fields = try await redis.send("HMGET", keys.job(id), "enqueued_at", "run_at").array ?? []
        let since = fields.compactMap { $0.string.flatMap { Int64($0) } }.max() ?? now
        return .milliseconds(max(0, now - since))
    }

    /// Pauses a queue: its workers finish what they run and claim nothing more; enqueues and
    /// schedules go on, and the jobs wait in ready. Returns false when it was already paused.
    @discardableResult
    public func pause(queue: String, reason: String) async throws -> Bool {
        guard Keys.isValidQueueName(queue) else { throw QueueError(.invalidRequest, "queue name '\(queue)': expected 1-64 of A-Z a-z 0-9 . _ -") }
        try await redis.send("SADD", Keys.queues, queue)
        return try await redis.send("SET", Keys(queue: queue).paused, String(reason.prefix(500)), "NX") == .status("OK")
    }

    /// Resumes a paused queue; false when it was not paused.
    @discardableResult
    public func resume(queue: String) async throws -> Bool {
        try await redis.send("DEL", Keys(queue: queue).paused).int == 1
    }

    /// Why a queue is paused, or nil when it is not.
    public func pauseReason(queue: String) async throws -> String? {
        try await redis.send("GET", Keys(queue: queue).paused).string
    }

    /// Whether the job enqueued under this dedup key still exists and can still run (not dead,
    /// not deleted, not finished).
    public func isLive(dedupKey: String, queue: String) async throws -> Bool {
        let keys = Keys(queue: queue)
        guard let id = try await redis.send("GET", keys.dedup(dedupKey)).string else { return false }
        let state = try await redis.send("HGET", keys.job(id), "state").string
        return ["ready", "delayed", "active", "retry"].contains(state ?? "")
    }

    /// Sends a dead job back to ready with fresh attempts; false if it is not dead.
    public func retryDead(queue: String, id: String) async throws -> Bool {
        let keys = Keys(queue: queue)
        return try await QueueScripts.retryDead.run(on: redis, keys, .init(job: id), arguments: [id]).int == 1
    }

    /// Deletes a dead job; false if it is not dead.
    public func deleteDead(queue: String, id: String) async throws -> Bool {
        let keys = Keys(queue: queue)
        // The dedup key is named in the job's record; read first so the script is given every key it touches.
        let dedupKey = try await redis.send("HGET", keys.job(id), "dedup_key").string
        return try await QueueScripts.deleteDead.run(on: redis, keys, .init(job: id, dedup: dedupKey ?? ""), arguments: [id]).int == 1
    }
}

/// Queues this process has already registered in `redial:queues` (saves a round trip per enqueue).
actor KnownQueues {
    private var names: Set<String> = []
    func insert(_ name: String) -> Bool { names.insert(name).inserted }
}
