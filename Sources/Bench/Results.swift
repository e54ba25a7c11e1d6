import Foundation

/// One run of the latency scenario: enqueue → start percentiles from the enqueue call and from
/// the instant the schedule had each job due, and how late a thread sleeping 1 ms woke meanwhile.
struct LatencyRun {
    let fromCall: Percentiles
    let fromSchedule: Percentiles
    let jobs: Int
    /// How many enqueue calls carried the jobs.
    let calls: Int
    /// How late a 1 ms sleep woke meanwhile.
    let hiccups: Percentiles
    /// Redis's longest main-thread event meanwhile (its latency monitor).
    let redisStall: RedisStall
    /// AOF rewrites Redis ran meanwhile.
    let aofRewrites: Int
    /// How busy Redis's main thread and the machine were meanwhile.
    let cpu: CPUUse

    /// For a progress line.
    var summary: String {
        "p50 \(fromCall.p50) ms, p99 \(fromCall.p99) ms (from the schedule \(fromSchedule.p50) / \(fromSchedule.p99) ms); "
            + "a 1 ms sleep woke up to \(hiccups.max) ms late; Redis's longest event \(redisStall.maxMs) ms "
            + "(\(redisStall.event)), \(aofRewrites) AOF rewrites; " + cpu.summary
    }
}

/// An event of Redis's latency monitor: `command`, `aof-write`, `fork`, … ("none": nothing of
/// 1 ms or more).
struct RedisStall: Encodable {
    let event: String
    let maxMs: Double

    enum CodingKeys: String, CodingKey {
        case event, maxMs = "max_ms"
    }
}

/// One latency figure over the runs, each as median with min–max.
struct LatencyResult: Encodable {
    let p50: Sample
    let p99: Sample
    let p999: Sample
    let max: Sample

    init(_ runs: [LatencyRun], _ figure: KeyPath<LatencyRun, Percentiles>) {
        p50 = Sample(runs.map { $0[keyPath: figure].p50 })
        p99 = Sample(runs.map { $0[keyPath: figure].p99 })
        p999 = Sample(runs.map { $0[keyPath: figure].p999 })
        max = Sample(runs.map { $0[keyPath: figure].max })
    }
}

/// The medians alone, as plain numbers: the top level of results.json (docs/contract.md).
struct LatencyMedians: Encodable {
    let p50: Double
    let p99: Double
    let p999: Double
    let max: Double

    init(_ result: LatencyResult) {
        p50 = result.p50.median
        p99 = result.p99.median
        p999 = result.p999.median
        max = result.max.median
    }
}

/// The latency scenario at one load: its runs and the hiccups measured alongside.
struct LatencyAtLoad: Encodable {
    let jobsPerSecond: Double
    /// From the enqueue call.
    let latency: LatencyResult
    /// From the instant the job was due: the enqueuer's own lateness included.
    let latencyFromSchedule: LatencyResult
    let hiccups: HiccupResult
    /// Jobs measured and enqueue calls that carried them, in each run.
    let jobs: [Int]
    let calls: [Int]
    /// Redis's longest main-thread event and its AOF rewrites, in each run.
    let redisStalls: [RedisStall]
    let aofRewrites: [Int]
    /// How busy Redis's main thread and all cores were, and Redis's CPU per job.
    let redisMainThreadBusyPercent: Sample
    let redisMicrosPerJob: Sample
    let machineBusyPercent: Sample

    init(jobsPerSecond: Double, runs: [LatencyRun]) {
        self.jobsPerSecond = jobsPerSecond
        latency = LatencyResult(runs, \.fromCall)
        latencyFromSchedule = LatencyResult(runs, \.fromSchedule)
        hiccups = HiccupResult(runs)
        jobs = runs.map(\.jobs)
        calls = runs.map(\.calls)
        redisStalls = runs.map(\.redisStall)
        aofRewrites = runs.map(\.aofRewrites)
        redisMainThreadBusyPercent = Sample(runs.map(\.cpu.redisMainThreadBusyPercent))
        redisMicrosPerJob = Sample(runs.map(\.cpu.redisMicrosPerJob))
        machineBusyPercent = Sample(runs.map(\.cpu.machineBusyPercent))
    }

    enum CodingKeys: String, CodingKey {
        case jobsPerSecond = "jobs_per_s", latency = "latency_ms", latencyFromSchedule = "latency_from_schedule_ms"
        case hiccups = "hiccup_ms", jobs, calls = "enqueue_calls", redisStalls = "redis_longest_event", aofRewrites = "aof_rewrites"
        case redisMainThreadBusyPercent = "redis_main_thread_busy_pct", redisMicrosPerJob = "redis_cpu_us_per_job"
        case machineBusyPercent = "machine_busy_pct"
    }
}

/// How late a 1 ms sleep woke during the latency runs (ms), each figure as median with min–max.
struct HiccupResult: Encodable {
    let p99: Sample
    let p999: Sample
    let max: Sample

    init(_ runs: [LatencyRun]) {
        p99 = Sample(runs.map(\.hiccups.p99))
        p999 = Sample(runs.map(\.hiccups.p999))
        max = Sample(runs.map(\.hiccups.max))
    }
}

/// Redis's main thread in each of the engine's scripts, driven alone.
struct ScriptCost {
    let enqueue: CPUUse
    let claim: CPUUse
    let complete: CPUUse

    /// Redis main-thread CPU per job (µs), the three together.
    var total: Double { enqueue.redisMicrosPerJob + claim.redisMicrosPerJob + complete.redisMicrosPerJob }

    /// For a log line: "14.3 µs (enqueue 4.7, claim 5.6, complete 4.2; Redis busy 93 / 97 / 99 %)"; Redis
    /// should be close to always busy, or wake-ups are in the figure.
    var summary: String {
        let phases = [enqueue, claim, complete]
        return "\(Sample.format(total)) µs (enqueue \(Sample.format(enqueue.redisMicrosPerJob)), claim \(Sample.format(claim.redisMicrosPerJob)), "
            + "complete \(Sample.format(complete.redisMicrosPerJob)); Redis busy "
            + phases.map { String(Int($0.redisMainThreadBusyPercent.rounded())) }.joined(separator: " / ") + " %)"
    }
}

/// The scripts-alone measurement over its runs, each figure as median with min–max.
struct ScriptCostResult: Encodable {
    let batch: Int
    let enqueue: Sample
    let claim: Sample
    let complete: Sample
    let total: Sample

    init(batch: Int, runs: [ScriptCost]) {
        self.batch = batch
        enqueue = Sample(runs.map(\.enqueue.redisMicrosPerJob))
        claim = Sample(runs.map(\.claim.redisMicrosPerJob))
        complete = Sample(runs.map(\.complete.redisMicrosPerJob))
        total = Sample(runs.map(\.total))
    }
}

struct DrainResult: Encodable {
    let concurrency: Int
    let jobsPerSecond: Sample
    let workerRSSMiB: Sample
    /// How busy Redis's main thread was and its CPU per job: what a steady load's figures
    /// compare with.
    let redisMainThreadBusyPercent: Sample
    let redisMicrosPerJob: Sample

    init(concurrency: Int, runs: [Runner.DrainRun]) {
        self.concurrency = concurrency
        jobsPerSecond = Sample(runs.map(\.rate))
        workerRSSMiB = Sample(runs.map(\.workerRSSMiB))
        redisMainThreadBusyPercent = Sample(runs.map(\.cpu.redisMainThreadBusyPercent))
        redisMicrosPerJob = Sample(runs.map(\.cpu.redisMicrosPerJob))
    }

    enum CodingKeys: String, CodingKey {
        case concurrency, jobsPerSecond = "jobs_per_s", workerRSSMiB = "worker_rss_mib"
        case redisMainThreadBusyPercent = "redis_main_thread_busy_pct", redisMicrosPerJob = "redis_cpu_us_per_job"
    }
}

struct ModeResults: Encodable {
    /// Measured before each process count's drains.
    let redisLPushP16: Sample
    let redisLPushP1: Double
    let redisSetRoundTripMsP50: Double
    let enqueueSingle: Sample
    let enqueueBatched: Sample
    /// By number of worker processes.
    let drain: [String: DrainResult]
    let bestProcesses: Int
    let bestConcurrency: Int
    let bestDrain: Double
    /// At half the one-process drain rate (the target's load), and at a quarter of it.
    let latencyHalfLoad: LatencyAtLoad
    let latencyQuarterLoad: LatencyAtLoad
    /// The floor: a bare Redis list (`LPUSH`, `BLMPOP`) at the half load, each run right after
    /// one of the engine's.
    let latencyFloorHalfLoad: LatencyAtLoad
    /// Redis's CPU per job in the engine's scripts alone, at the half load's batch size.
    let scriptsAlone: ScriptCostResult

    enum CodingKeys: String, CodingKey {
        case redisLPushP16 = "redis_lpush_c50_p16_per_s", redisLPushP1 = "redis_lpush_c50_p1_per_s"
        case redisSetRoundTripMsP50 = "redis_set_round_trip_ms_p50"
        case enqueueSingle = "enqueue_single_jobs_per_s", enqueueBatched = "enqueue_batched_jobs_per_s"
        case drain = "drain_by_processes", bestProcesses = "best_processes", bestConcurrency = "best_concurrency"
        case bestDrain = "drain_jobs_per_s", latencyHalfLoad = "latency_half_load", latencyQuarterLoad = "latency_quarter_load"
        case latencyFloorHalfLoad = "latency_half_load_bare_list"
        case scriptsAlone = "redis_cpu_us_per_job_scripts_alone"
    }
}

struct ScaleResults: Encodable {
    let backlog: Int
    let redisBytesPerWaitingJob: Double
    let drainWithBacklog: Sample
    let drainFromEmpty: Sample
    /// Each pair's drain with the backlog ÷ its drain from empty, and their median: the figure.
    let pairRatios: [Double]
    let ratio: Double

    init(backlog: Int, redisBytesPerWaitingJob: Double, drainWithBacklog: [Double], drainFromEmpty: [Double]) {
        self.backlog = backlog
        self.redisBytesPerWaitingJob = redisBytesPerWaitingJob
        self.drainWithBacklog = Sample(drainWithBacklog)
        self.drainFromEmpty = Sample(drainFromEmpty)
        pairRatios = zip(drainWithBacklog, drainFromEmpty).map { $0 / $1 }
        ratio = Sample(pairRatios).median
    }

    enum CodingKeys: String, CodingKey {
        case backlog, redisBytesPerWaitingJob = "redis_bytes_per_waiting_job"
        case drainWithBacklog = "drain_with_backlog_jobs_per_s", drainFromEmpty = "drain_from_empty_jobs_per_s"
        case pairRatios = "backlog_to_empty_pair_ratios", ratio = "backlog_to_empty_ratio"
    }
}

struct Machine: Encodable {
    let cores: Int
    let redis: String

    static func current() -> Machine {
        return Machine(cores: ProcessInfo.processInfo.activeProcessorCount, redis: redisVersion())
    }

    static func redisVersion() -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/redis-server")
        process.arguments = ["--version"]
        let pipe = Pipe()
        process.standardOutput = pipe
        guard (try? process.run()) != nil else { return "unknown" }
        process.waitUntilExit()
        return String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .split(separator: " ").first { $0.hasPrefix("v=") }.map { String($0.dropFirst(2)) } ?? "unknown"
    }

    /// VmRSS of a process, in MiB.
    static func residentMiB(pid: Int32) -> Double {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kib = line.split(separator: " ").dropFirst().first.flatMap({ Double($0) }) else { return 0 }
        return kib / 1024
    }
}

struct Results: Encodable {
    let enqueueJobsPerSecond: Double
    let drainJobsPerSecond: Double
    /// At the tail target's load: half the rate sustained with enqueues running (half the drain
    /// rate when no sustained rate was found).
    let latencyMs: LatencyMedians
    let tailTarget: SustainedRate.TailTarget?
    let redisLimitJobsPerSecond: Double
    let ratioToRedisLimit: Double
    let quick: Bool
    let modes: [String: ModeResults]
    /// One worker process with its jobs being enqueued meanwhile, `everysec`.
    let sustained: SustainedRate
    let scale: ScaleResults
    let machine: Machine

    enum CodingKeys: String, CodingKey {
        case enqueueJobsPerSecond = "enqueue_jobs_per_s", drainJobsPerSecond = "drain_jobs_per_s", latencyMs = "latency_ms"
        case tailTarget = "tail_target"
        case redisLimitJobsPerSecond = "redis_limit_jobs_per_s", ratioToRedisLimit = "ratio_to_redis_limit"
        case quick, modes, sustained = "sustained_rate_everysec", scale, machine
    }
}
