/// The highest steady rate one worker process keeps up with while the same Redis runs every
/// enqueue, and the latency at half of it.
///
/// Why next to the drain: a drain's jobs were enqueued before it started, so its rate counts no
/// enqueue work, and half the drain rate (the target's load) keeps Redis about two-thirds busy.
/// Load in the usual sense, arrival rate over the capacity under the same work, is measured here.
struct SustainedRate: Encodable {
    /// One steady run of the search.
    struct Step: Encodable {
        let jobsPerSecond: Double
        /// Median lateness from the due instant (ms): it grows through a run that falls behind.
        let lateP50Ms: Double
        let keptUp: Bool

        enum CodingKeys: String, CodingKey {
            case jobsPerSecond = "jobs_per_s", lateP50Ms = "from_schedule_p50_ms", keptUp = "kept_up"
        }
    }

    /// A run kept up when its median job started within this long of its due instant: at the
    /// limit the lateness climbs through the run (5 s at 2 % over leaves the median ~50 ms late),
    /// while a run that keeps up has it near 1 ms.
    static let keptUpMs = 10.0

    /// The one-process drain rate the search started from.
    let drainJobsPerSecond: Double
    let steps: [Step]
    /// The highest rate that kept up; nil when none did.
    let jobsPerSecond: Double?
    /// At half of it.
    let latencyHalf: LatencyAtLoad?

    enum CodingKeys: String, CodingKey {
        case drainJobsPerSecond = "one_process_drain_jobs_per_s", steps, jobsPerSecond = "jobs_per_s", latencyHalf = "latency_half"
    }
}

extension Runner {
    /// Bisects the sustained rate between none and 1.5 × `drainRate`, starting at three quarters
    /// of it (this machine's speed drifts by more than a third within minutes, so the drain
    /// measured earlier is no ceiling): `plan.sustainedSteps` steady runs, each moving half as far
    /// as the last (after five, the true rate lies within 5 % of the drain rate above the highest
    /// that kept up). Then `plan.runs` latency runs at half the highest rate that kept up.
    func measureSustainedRate(drainRate: Double, concurrency: Int) async throws -> SustainedRate {
        var steps: [SustainedRate.Step] = []
        var rate = drainRate * 0.75
        var move = drainRate * 0.375
        for _ in 0..<plan.sustainedSteps {
            let run = try await measureLatency(rate: rate, concurrency: concurrency)
            let keptUp = run.fromSchedule.p50 <= SustainedRate.keptUpMs
            log("[everysec] sustained? \(Int(rate)) jobs/s: " + (keptUp ? "kept up; " : "fell behind; ") + run.summary)
            steps.append(.init(jobsPerSecond: rate, lateP50Ms: run.fromSchedule.p50, keptUp: keptUp))
            rate += keptUp ? move : -move
            move /= 2
        }
        guard let sustained = steps.filter(\.keptUp).map(\.jobsPerSecond).max() else {
            return SustainedRate(drainJobsPerSecond: drainRate, steps: steps, jobsPerSecond: nil, latencyHalf: nil)
        }
        var runs: [LatencyRun] = []
        for _ in 0..<plan.runs {
            let run = try await measureLatency(rate: sustained / 2, concurrency: concurrency)
            log("[everysec] latency at half the sustained rate, \(Int(sustained / 2)) jobs/s: " + run.summary)
            runs.append(run)
        }
        return SustainedRate(drainJobsPerSecond: drainRate, steps: steps, jobsPerSecond: sustained, latencyHalf: LatencyAtLoad(jobsPerSecond: sustained / 2, runs: runs))
    }
}
