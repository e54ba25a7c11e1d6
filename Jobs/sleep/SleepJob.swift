import Queue

/// `sleep` (`{"ms": n}`): sleeps n ms, honouring cancellation (timeout, shutdown).
struct SleepJob: JobHandler {
    struct Payload: Decodable {
        let ms: Int
    }

    func run(_ job: Job) async throws -> JobOutcome {
        let payload = try job.decode(Payload.self)
        guard (0...86_400_000).contains(payload.ms) else {
            throw PermanentJobError("sleep: 'ms' must be 0-86400000, got \(payload.ms)")
        }
        try await Task.sleep(for: .milliseconds(payload.ms))
        return .completed
    }
}
