/// A job as a handler receives it: claimed by this worker, at attempt `attempt`.
public struct Job: Sendable {
    public let id: String
    public let type: String
    public let queue: String
    /// The JSON payload given at enqueue, as bytes.
    public let payload: [UInt8]
    /// 1 for the first run; counts runs that started (snoozes and hand-backs give theirs back).
    public let attempt: Int
    public let maxAttempts: Int
    /// Redis server time (ms since the epoch) when the job was enqueued, and when this attempt started.
    public let enqueuedAt: Int64
    public let startedAt: Int64
    /// The attempt timeout the job was enqueued with (its type's policy then); nil for jobs
    /// enqueued without one, which use the worker's policy.
    public let timeout: Duration?
    /// This run's token, presented with its ack or hand-back (`claimJobs.lua`): it counts every
    /// run and is never given back, so, unlike `attempt`, it never repeats.
    public let fence: Int

    public init(id: String, type: String, queue: String, payload: [UInt8], attempt: Int, maxAttempts: Int,
                enqueuedAt: Int64, startedAt: Int64, timeout: Duration? = nil, fence: Int? = nil) {
        self.id = id
        self.type = type
        self.queue = queue
        self.payload = payload
        self.attempt = attempt
        self.maxAttempts = maxAttempts
        self.enqueuedAt = enqueuedAt
        self.startedAt = startedAt
        self.timeout = timeout
        self.fence = fence ?? attempt
    }
}
