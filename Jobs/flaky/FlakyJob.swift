import Queue

/// `flaky` (`{"fail_times": n}`): attempts 1…n fail, attempt n+1 succeeds.
struct FlakyJob: JobHandler {
    struct Payload: Decodable {
        let fail_times: Int
    }

    struct PlannedFailure: Error, CustomStringConvertible {
        let attempt: Int
        let planned: Int
        var description: String { "flaky: planned failure on attempt \(attempt) of \(planned)" }
    }

    func run(_ job: Job) async throws -> JobOutcome {
        let payload = try job.decode(Payload.self)
        guard payload.fail_times >= 0 else { throw PermanentJobError("flaky: 'fail_times' must be ≥ 0, got \(payload.fail_times)") }
        if job.attempt <= payload.fail_times { throw PlannedFailure(attempt: job.attempt, planned: payload.fail_times) }
        return .completed
    }
}
