import RedisClient

/// Who moves a job out of each state; the README's state diagram draws the same edges.
public enum JobState: String, Sendable, CaseIterable {
    /// In `ready`; a worker's claim moves it to active.
    case ready
    /// In `delayed` until its run-at; the promoter moves it to ready.
    case delayed
    /// In a worker's held hash; that worker's ack (completed) or fail (retry / dead), its
    /// shutdown hand-back (ready), or the reaper when the worker's heartbeat expires (ready / dead).
    case active
    /// Failed or snoozed, in `delayed` until its next run-at; the promoter moves it to ready.
    case retry
    /// Terminal; the record (its `worker` says who completed it) is kept among the newest
    /// `completedKeep` of its queue, for at most `completedRetention`.
    case completed
    /// Taken from ready or delayed to move to another queue (a rolled-back beta's to
    /// production's), in `moving`; `dropMoved` deletes it once enqueued there, and a move that
    /// stopped midway is resumed by the next (`JobQueue.moveWaiting`).
    case moving
    /// Out of attempts or permanently failed, in `dead`; an operator retries (ready) or deletes it.
    /// Kept among the newest `deadKeep` of its queue, for at most `deadRetention` (`pruneDead`).
    case dead
}

/// A job's stored record, as operators see it (`redial jobs inspect`).
public struct JobRecord: Sendable {
    public let fields: [String: String]

    public init(fields: [String: String]) { self.fields = fields }

    /// From the job's hash as `HGETALL` answers it; nil when there is none.
    init?(queue: String, id: String, hash reply: RedisValue) {
        let items = reply.array ?? []
        guard !items.isEmpty else { return nil }
        var fields: [String: String] = ["id": id, "queue": queue]  // kept in the key, not the hash
        for pair in stride(from: 0, to: items.count - 1, by: 2) {
            if let key = items[pair].string { fields[key] = items[pair + 1].string ?? "" }
        }
        self.fields = fields
    }

    public var id: String { fields["id"] ?? "" }
    public var type: String { fields["type"] ?? "" }
    public var queue: String { fields["queue"] ?? "" }
    public var state: JobState? { fields["state"].flatMap(JobState.init(rawValue:)) }
    public var attempt: Int { fields["attempt"].flatMap { Int($0) } ?? 0 }
    public var maxAttempts: Int { fields["max_attempts"].flatMap { Int($0) } ?? 0 }
    public var lastError: String? { fields["last_error"] }
    public var payload: String { fields["payload"] ?? "" }
}

/// Counts for one queue (`redial stats`).
public struct QueueStats: Sendable, Equatable, Codable {
    public var ready = 0
    public var delayed = 0
    public var active = 0
    public var dead = 0
    /// Since the queue was created: jobs completed, and attempts that failed.
    public var completed = 0
    public var failed = 0
    /// Workers claim nothing while it is paused (`JobQueue.pause`).
    public var paused = false

    public init() {}
}
