import Queue

/// `sleep` (`{"ms": n, "ignore_cancellation"?: bool}`): sleeps n ms, honouring cancellation
/// (timeout, shutdown), or, with `ignore_cancellation`, like a handler stuck in a call that
/// cannot be interrupted (a database that stopped answering): the worker must release such a
/// job for another worker without waiting for it.
struct SleepJob: StandaloneJob {
    struct Args: JobArgs {
        static let jobType = "sleep"
        let ms: Int
        let ignore_cancellation: Bool?
    }

    static var policyFile: [UInt8] { PackageResources.sleep_policy_json }

    func work(_ args: Args, job: Job) async throws -> JobOutcome {
        guard (0...86_400_000).contains(args.ms) else {
            throw PermanentJobError("sleep: 'ms' must be 0-86400000, got \(args.ms)")
        }
        if args.ignore_cancellation == true {
            // A detached task does not inherit the handler's cancellation.
            await Task.detached { try? await Task.sleep(for: .milliseconds(args.ms)) }.value
        } else {
            try await Task.sleep(for: .milliseconds(args.ms))
        }
        return .completed
    }
}
