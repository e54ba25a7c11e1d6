/// The highest steady rate one worker process keeps up with while the same Redis runs every
/// enqueue, and the latency at half of it: the tail target's load, next to a bare list's.
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
    /// A bare Redis list (LPUSH, BLMPOP) at that same rate, each run right after one of the
    /// engine's: the tail this machine and Redis give with no engine at all.
    let floorHalf: LatencyAtLoad?

    enum CodingKeys: String, CodingKey {
        case drainJobsPerSecond = "one_process_drain_jobs_per_s", steps, jobsPerSecond = "jobs_per_s", latencyHalf = "latency_half"
        case floorHalf = "latency_half_bare_list", tailTarget = "tail_target"
    }

    /// The tail target, read side by side (medians of the runs): p99 at half the sustained rate
    /// within 2 ms while the bare list at that rate stays under 1 ms, and within twice the bare
    /// list's p99 when this machine's own hiccups push that to 1 ms or more: the bound is
    /// max(2 ms, 2 × the bare list's p99).
    struct TailTarget: Encodable {
        let p99Ms: Double
        let floorP99Ms: Double
        let ratioToFloor: Double
        let boundMs: Double
        let met: Bool

        init(engine: LatencyAtLoad, floor: LatencyAtLoad) {
            p99Ms = engine.latency.p99.median
            floorP99Ms = floor.latency.p99.median
            ratioToFloor = p99Ms / max(floorP99Ms, 0.001)
            boundMs = max(2, 2 * floorP99Ms)
            met = p99Ms <= boundMs
        }

        enum CodingKeys: String, CodingKey {
            case p99Ms = "p99_ms", floorP99Ms = "bare_list_p99_ms", ratioToFloor = "ratio_to_bare_list", boundMs = "bound_ms", met
        }
    }

    var tailTarget: TailTarget? {
        guard let latencyHalf, let floorHalf else { return nil }
        return TailTarget(engine: latencyHalf, floor: floorHalf)
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(drainJobsPerSecond, forKey: .drainJobsPerSecond)
        try container.encode(steps, forKey: .steps)
        try container.encodeIfPresent(jobsPerSecond, forKey: .jobsPerSecond)
        try container.encodeIfPresent(latencyHalf, forKey: .latencyHalf)
        try container.encodeIfPresent(floorHalf, forKey: .floorHalf)
        try container.encodeIfPresent(tailTarget, forKey: .tailTarget)
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
            return SustainedRate(drainJobsPerSecond: drainRate, steps: steps, jobsPerSecond: nil, latencyHalf: nil, floorHalf: nil)
        }
        var runs: [LatencyRun] = []
        var floors: [LatencyRun] = []
        for _ in 0..<plan.runs {
            let run = try await measureLatency(rate: sustained / 2, concurrency: concurrency)
            log("[everysec] latency at half the sustained rate, \(Int(sustained / 2)) jobs/s: " + run.summary)
            runs.append(run)
            let floor = try await measureLatency(rate: sustained / 2, concurrency: concurrency, floor: true)
            log("[everysec] bare-list floor at \(Int(sustained / 2)) jobs/s: " + floor.summary)
            floors.append(floor)
        }
        return SustainedRate(drainJobsPerSecond: drainRate, steps: steps, jobsPerSecond: sustained,
                             latencyHalf: LatencyAtLoad(jobsPerSecond: sustained / 2, runs: runs),
                             floorHalf: LatencyAtLoad(jobsPerSecond: sustained / 2, runs: floors))
    }
}
