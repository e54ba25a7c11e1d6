import Queue

/// `noop`: succeeds at once. Measures the engine alone (benchmarks, smoke tests).
struct NoopJob: StandaloneJob {
    struct Args: JobArgs {
        static let jobType = "noop"
    }

    static var policyFile: [UInt8] { PackageResources.noop_policy_json }

    func work(_ args: Args, job: Job) async throws -> JobOutcome { .completed }
}
