import Queue

/// `sleep` (`{"ms": n, "ignore_cancellation"?: bool}`): sleeps n ms, honouring cancellation
/// (timeout, shutdown), or, with `ignore_cancellation`, like a handler stuck in a call that
/// cannot be interrupted (a database that stopped answering): the worker must release such a
/// job for another worker without waiting for it.
struct SleepJob: JobHandler {
    struct Payload: Decodable {
        let ms: Int
        let ignore_cancellation: Bool?
    }

    func run(_ job: Job) async throws -> JobOutcome {
        let payload = try job.decode(Payload.self)
        guard (0...86_400_000).contains(payload.ms) else {
            throw PermanentJobError("sleep: 'ms' must be 0-86400000, got \(payload.ms)")
        }
        if payload.ignore_cancellation == true {
            // A detached task does not inherit the handler's cancellation.
            await Task.detached { try? await Task.sleep(for: .milliseconds(payload.ms)) }.value
        } else {
            try await Task.sleep(for: .milliseconds(payload.ms))
        }
        return .completed
    }
}
