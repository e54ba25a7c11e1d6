import Queue

/// `flaky` (`{"fail_times": n}`): attempts 1…n fail, attempt n+1 succeeds.
struct FlakyJob: StandaloneJob {
    struct Args: JobArgs {
        static let jobType = "flaky"
        let fail_times: Int
    }

    static var policyFile: [UInt8] { PackageResources.flaky_policy_json }

    struct PlannedFailure: Error, CustomStringConvertible {
        let attempt: Int
        let planned: Int
        var description: String { "flaky: planned failure on attempt \(attempt) of \(planned)" }
    }

    func work(_ args: Args, job: Job) async throws -> JobOutcome {
        guard args.fail_times >= 0 else { throw PermanentJobError("flaky: 'fail_times' must be ≥ 0, got \(args.fail_times)") }
        if job.attempt <= args.fail_times { throw PlannedFailure(attempt: job.attempt, planned: args.fail_times) }
        return .completed
    }
}
