import Queue

/// `noop`: succeeds at once. Measures the engine alone (benchmarks, smoke tests).
struct NoopJob: JobHandler {
    func run(_ job: Job) async throws -> JobOutcome { .completed }
}
