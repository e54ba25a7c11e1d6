import ArgumentParser
import Dispatch
import Foundation
import Histogram
import LocalServices
import Logging
import Metrics
import Prometheus
import Queue
import RedisClient
import Synchronization

/// `make bench`: how fast the engine is, against Redis's own limit measured in the same run.
/// The Makefile starts a Redis with the shipped configuration; this drives it.
@main
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "redial-bench",
                                                    abstract: "Benchmark the queue engine (run through `make bench`).")

    @Option(help: "Port of the benchmark's own Redis (started by make bench).") var redisPort: Int
    @Option(help: "The redial binary whose workers are measured (a release build).") var redial: String?
    @Option(help: "Where to write the results.") var output: String?
    @Flag(help: "A short run: fewer jobs, one run per figure.") var quick = false
    @Option(help: .hidden) var steadyEnqueue: String?
    @Flag(help: "With --latency-only: a bare Redis list (LPUSH, BLMPOP) at that load instead of the engine.") var floor = false
    @Option(help: "Measure only enqueue → start latency at this many jobs/s (with --concurrency).") var latencyOnly: Double?
    @Option(help: "Handler slots of the latency worker (with --latency-only).") var concurrency = 64
    @Option(help: "Seconds of steady load (with --latency-only; make bench uses 5).") var seconds: Double?
    @Flag(help: "Only the callback path: intake against pgbench, click to ring (with --postgres-port and --redial).") var intake = false
    @Option(help: "Port of the benchmark's own PostgreSQL (with --intake).") var postgresPort: Int?
    @Option(help: "The intake part's memory run, seconds (default 600, 60 with --quick; 0: none).") var soakSeconds: Int?
    @Flag(help: "Only what WAIT 1 costs: --redis-port is a master with one replica (make bench-replication).") var replication = false
    @Option(help: "Only the drain on a Redis Cluster (its six nodes' ports, comma-separated) against the one Redis on --redis-port (make bench-cluster; with --redial).")
    var cluster: String?

    func validate() throws {
        guard (1...65535).contains(redisPort) else { throw ValidationError("--redis-port: expected 1-65535, got \(redisPort)") }
        if let latencyOnly, !(latencyOnly > 0 && latencyOnly.isFinite) {
            throw ValidationError("--latency-only: expected jobs/s > 0, got \(latencyOnly)")
        }
        guard (1...10_000).contains(concurrency) else { throw ValidationError("--concurrency: expected 1-10000, got \(concurrency)") }
        if floor && latencyOnly == nil && steadyEnqueue == nil { throw ValidationError("--floor: only with --latency-only") }
        if let seconds, !(seconds > 0 && seconds <= 3600) { throw ValidationError("--seconds: expected more than 0 and at most 3600, got \(seconds)") }
    }

    func run() async throws {
        // The in-process worker and enqueuers record metrics as `redial work` and the API do,
        // so their cost per job is in the figures (unbootstrapped, swift-metrics drops them).
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: PrometheusCollectorRegistry()))
        // The latency scenario's enqueuer, in a process of its own: "<jobs/s>:<seconds>".
        if let steadyEnqueue {
            let parts = steadyEnqueue.split(separator: ":").compactMap { Double($0) }
            guard parts.count == 2, parts.allSatisfy({ $0 > 0 && $0.isFinite }) else {
                throw ValidationError("--steady-enqueue: expected <jobs/s>:<seconds>, both > 0")
            }
            let sent = floor ? try await LatencyProbe.pushSteadily(port: redisPort, rate: parts[0], seconds: parts[1])
                : try await LatencyProbe.enqueueSteadily(port: redisPort, rate: parts[0], seconds: parts[1])
            print("\(sent.jobs) \(sent.calls)")
            return
        }
        if replication {
            guard let output else { throw ValidationError("--replication needs --output") }
            let results = try await ReplicationBench(masterPort: redisPort, quick: quick).run()
            try Self.merge(results, as: "replication", into: output)
            print(ReplicationBench.render(results))
            print("wrote \(output) (replication)")
            return
        }
        if let cluster {
            let ports = cluster.split(separator: ",").compactMap { Int($0) }
            guard ports.count == 6, let redial, let output else { throw ValidationError("--cluster needs six ports, --redial and --output") }
            let results = try await ClusterBench(singlePort: redisPort, clusterPorts: ports, redial: redial, quick: quick).run()
            try Self.merge(results, as: "cluster", into: output)
            print("drain over three queues: one Redis \(results.drains["one_redis"]!) jobs/s, cluster of three masters "
                  + "\(results.drains["cluster"]!) jobs/s; ratio of medians \(results.ratio)")
            print("wrote \(output) (cluster)")
            return
        }
        if intake {
            guard let redial, let postgresPort, let output else { throw ValidationError("--intake needs --redial, --postgres-port and --output") }
            let results = try await IntakeBench(redial: redial, redisPort: redisPort, postgresPort: postgresPort, seconds: quick ? 5 : 15,
                                          quick: quick, soakSeconds: soakSeconds ?? (quick ? 60 : 600)).run()
            try Self.merge(results, as: "intake", into: output)
            print(Table.render(results))
            print("wrote \(output) (intake)")
            return
        }
        if let latencyOnly {
            // Only the latency scenario, at a chosen rate: for chasing tail latency.
            let runner = try await Runner(port: redisPort, redial: "", plan: Plan(quick: quick, latencySeconds: seconds))
            let latency = try await runner.measureLatency(rate: latencyOnly, concurrency: concurrency, floor: floor)
            let call = latency.fromCall, due = latency.fromSchedule
            print("latency at \(Int(latencyOnly)) jobs/s, concurrency \(concurrency), \(latency.jobs) jobs in \(latency.calls) enqueue calls: "
                  + "from the call p50 \(call.p50) ms, p99 \(call.p99) ms, p99.9 \(call.p999) ms, max \(call.max) ms; "
                  + "from the schedule p50 \(due.p50) ms, p99 \(due.p99) ms, p99.9 \(due.p999) ms, max \(due.max) ms; "
                  + "a 1 ms sleep woke late by p99 \(latency.hiccups.p99) ms, p99.9 \(latency.hiccups.p999) ms, max \(latency.hiccups.max) ms; "
                  + "Redis's longest event \(latency.redisStall.maxMs) ms (\(latency.redisStall.event)), \(latency.aofRewrites) AOF rewrites; "
                  + latency.cpu.summary)
            return
        }
        guard let redial, let output else { throw ValidationError("--redial and --output are required") }
        let plan = Plan(quick: quick)
        var bench = try await Runner(port: redisPort, redial: redial, plan: plan)
        let results = try await bench.everything()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try FileManager.default.createDirectory(atPath: (output as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try encoder.encode(results).write(to: URL(fileURLWithPath: output))
        print(Table.render(results))
        print("wrote \(output)")
    }

    /// A part's figures as a member of `results.json` (`intake`, `replication`), beside the
    /// engine's when that file exists.
    static func merge(_ results: some Encodable, as member: String, into output: String) throws {
        var document = (try? JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: output)))) as? [String: Any] ?? [:]
        document[member] = try JSONSerialization.jsonObject(with: JSONEncoder().encode(results))
        try FileManager.default.createDirectory(atPath: (output as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys]).write(to: URL(fileURLWithPath: output))
    }
}

/// How much to measure.
struct Plan {
    let quick: Bool
    /// Seconds of steady load per latency run.
    let latencySeconds: Double

    init(quick: Bool, latencySeconds: Double? = nil) {
        self.quick = quick
        self.latencySeconds = latencySeconds ?? (quick ? 2 : 5)
    }

    var runs: Int { quick ? 1 : 3 }
    /// Pairs of drains (from empty, then with the backlog waiting): single drains here vary by
    /// ±15 % within minutes, so the backlog figure takes more pairs than other figures take runs.
    var scalePairs: Int { quick ? 1 : 5 }
    /// Enqueue calls per client of the scripts-alone measurement (16 clients).
    var scriptCalls: Int { quick ? 75 : 300 }
    var drainJobs: Int { quick ? 30_000 : 200_000 }
    var probeJobs: Int { quick ? 20_000 : 40_000 }
    var processCounts: [Int] { quick ? [1, 2] : [1, 2, 4] }
    /// Steady runs of the sustained-rate search (each halves the uncertainty).
    var sustainedSteps: Int { quick ? 3 : 5 }
    var concurrencies: [Int] { quick ? [64] : [16, 64, 256] }
    var singleEnqueues: Int { quick ? 500 : 2000 }
    var batchedEnqueues: Int { quick ? 30_000 : 100_000 }
    var backlog: Int { quick ? 200_000 : 1_000_000 }
}

struct Runner {
    let port: Int
    let redial: String
    let plan: Plan
    let redis: RedisPool
    let jobs: JobQueue
    let noop = JobPolicy(queue: "bench", maxAttempts: 1, timeout: .seconds(10))
    let started = DispatchTime.now()

    init(port: Int, redial: String, plan: Plan) async throws {
        self.port = port
        self.redial = redial
        self.plan = plan
        redis = RedisPool(configuration: RedisConfiguration(url: RedisURL(host: "127.0.0.1", port: port), poolSize: 8))
        jobs = JobQueue(redis: redis)
    }

    mutating func everything() async throws -> Results {
        var modes: [String: ModeResults] = [:]
        for mode in ["everysec", "always"] {
            try await redis.send("CONFIG", "SET", "appendfsync", mode)
            modes[mode] = try await measure(mode: mode)
        }
        try await redis.send("CONFIG", "SET", "appendfsync", "everysec")
        let everysec = modes["everysec"]!
        let oneProcess = everysec.drain["1"]!
        let sustained = try await measureSustainedRate(drainRate: oneProcess.jobsPerSecond.median, concurrency: oneProcess.concurrency)
        let scale = try await measureScale(processes: everysec.bestProcesses, concurrency: everysec.bestConcurrency)
        try await redis.send("CONFIG", "SET", "appendfsync", "always")
        return Results(
            enqueueJobsPerSecond: everysec.enqueueBatched.median,
            drainJobsPerSecond: everysec.bestDrain,
            latencyMs: LatencyMedians(sustained.latencyHalf?.latency ?? everysec.latencyHalfLoad.latency),
            tailTarget: sustained.tailTarget,
            redisLimitJobsPerSecond: everysec.redisLPushP16.median,
            ratioToRedisLimit: everysec.bestDrain / everysec.redisLPushP16.median,
            quick: plan.quick,
            modes: modes,
            sustained: sustained,
            scale: scale,
            machine: Machine.current())
    }

    // MARK: one fsync mode

    mutating func measure(mode: String) async throws -> ModeResults {
        log("[\(mode)] redis-benchmark LPUSH -c 50 -P 1")
        let unpipelined = try await RedisBenchmark.lpush(port: port, clients: 50, pipeline: 1, requests: mode == "always" ? 20_000 : 200_000)
        try await redis.send("FLUSHALL")

        log("[\(mode)] enqueue, single and batched")
        var single: [Double] = []
        var batched: [Double] = []
        for _ in 0..<plan.runs {
            single.append(try await enqueueSingle(plan.singleEnqueues))
            batched.append(try await enqueueBatched(plan.batchedEnqueues))
            try await redis.send("FLUSHALL")
        }

        var drains: [String: DrainResult] = [:]
        // Redis's limit is measured again before each process count's drains, and the ratio
        // uses the median: this machine's speed drifts within minutes, and one measurement at
        // the start of a mode was as noisy as the drains it divides.
        var limits: [Double] = []
        for processes in plan.processCounts {
            limits.append(try await RedisBenchmark.lpush(port: port, clients: 50, pipeline: 16, requests: mode == "always" ? 500_000 : 2_000_000))
            log("[\(mode)] redis-benchmark LPUSH -c 50 -P 16: \(Int(limits.last!)) ops/s")
            var best = (concurrency: plan.concurrencies[0], rate: 0.0)
            if plan.concurrencies.count > 1 {
                for concurrency in plan.concurrencies {
                    let probe = try await drain(jobs: plan.probeJobs, processes: processes, concurrency: concurrency).rate
                    log("[\(mode)] probe: \(processes) × concurrency \(concurrency): \(Int(probe)) jobs/s")
                    if probe > best.rate { best = (concurrency, probe) }
                }
            }
            var runs: [DrainRun] = []
            for _ in 0..<plan.runs {
                let run = try await drain(jobs: plan.drainJobs, processes: processes, concurrency: best.concurrency)
                log("[\(mode)] drain \(plan.drainJobs): \(processes) × concurrency \(best.concurrency): \(Int(run.rate)) jobs/s; " + run.cpu.summary)
                runs.append(run)
            }
            drains[String(processes)] = DrainResult(concurrency: best.concurrency, runs: runs)
        }
        let bestProcesses = drains.max { $0.value.jobsPerSecond.median < $1.value.jobsPerSecond.median }!
        let oneProcess = drains["1"]!

        // The target's load, half the one-process drain rate, and a quarter of it for the shape
        // of the curve. At half load each run is followed by one of the bare-list floor at the
        // same rate: the latency this machine and Redis give with no engine at all.
        var loads: [LatencyAtLoad] = []
        var floorRuns: [LatencyRun] = []
        for (share, label) in [(0.5, "50 %"), (0.25, "25 %")] {
            let rate = oneProcess.jobsPerSecond.median * share
            var runs: [LatencyRun] = []
            for _ in 0..<plan.runs {
                let run = try await measureLatency(rate: rate, concurrency: oneProcess.concurrency)
                log("[\(mode)] latency at \(label) of the one-process drain rate, \(Int(rate)) jobs/s: " + run.summary)
                runs.append(run)
                if share == 0.5 {
                    let floor = try await measureLatency(rate: rate, concurrency: oneProcess.concurrency, floor: true)
                    log("[\(mode)] bare-list floor at \(Int(rate)) jobs/s: " + floor.summary)
                    floorRuns.append(floor)
                }
            }
            loads.append(LatencyAtLoad(jobsPerSecond: rate, runs: runs))
        }
        // The scripts alone, at the half load's batch size (jobs per enqueue call).
        let halfLoad = loads[0]
        let batch = max(1, Int((Double(halfLoad.jobs.reduce(0, +)) / Double(max(1, halfLoad.calls.reduce(0, +)))).rounded()))
        var scriptCosts: [ScriptCost] = []
        for _ in 0..<plan.runs {
            let cost = try await measureScriptCost(batch: batch)
            log("[\(mode)] the scripts alone, batches of \(batch): Redis's CPU per job " + cost.summary)
            scriptCosts.append(cost)
        }
        let roundTrip = try await setRoundTripMs()
        return ModeResults(
            redisLPushP16: Sample(limits), redisLPushP1: unpipelined, redisSetRoundTripMsP50: roundTrip,
            enqueueSingle: Sample(single), enqueueBatched: Sample(batched), drain: drains,
            bestProcesses: Int(bestProcesses.key)!, bestConcurrency: bestProcesses.value.concurrency,
            bestDrain: bestProcesses.value.jobsPerSecond.median, latencyHalfLoad: loads[0], latencyQuarterLoad: loads[1],
            latencyFloorHalfLoad: LatencyAtLoad(jobsPerSecond: loads[0].jobsPerSecond, runs: floorRuns),
            scriptsAlone: ScriptCostResult(batch: batch, runs: scriptCosts))
    }

    func enqueueSingle(_ count: Int) async throws -> Double {
        let start = DispatchTime.now()
        for _ in 0..<count { _ = try await jobs.enqueue(.init(type: "noop", policy: noop)) }
        return Double(count) / start.secondsSince
    }

    func enqueueBatched(_ count: Int) async throws -> Double {
        let start = DispatchTime.now()
        try await preload(count, concurrent: 1)
        return Double(count) / start.secondsSince
    }

    /// Enqueues `count` noop jobs in batches of 1000; `concurrent` pipelines at a time.
    func preload(_ count: Int, concurrent: Int = 4) async throws {
        let batch = Array(repeating: JobQueue.Request(type: "noop", policy: noop), count: 1000)
        try await withThrowingTaskGroup(of: Void.self) { group in
            var remaining = count
            var running = 0
            while remaining > 0 {
                if running == concurrent {
                    try await group.next()
                    running -= 1
                }
                let size = min(1000, remaining)
                remaining -= size
                running += 1
                group.addTask { [jobs] in _ = try await jobs.enqueue(batch: Array(batch.prefix(size))) }
            }
            try await group.waitForAll()
        }
    }

    /// What a job costs Redis's main thread in the engine's own scripts, with no wake-ups in
    /// the way: 16 clients keep Redis busy, so it never sleeps between requests, while they
    /// enqueue jobs in batches of `batch` (the steady load's size, with the latency probe's
    /// payload), then claim them all (as 16 workers), then complete them all, the worker's own
    /// commands (`WorkerCommands`). At a steady load a job costs Redis this plus its share of
    /// each request's reading, writing and waking; a drain counts only the claim and the
    /// completion (its jobs were enqueued before it), in larger batches.
    func measureScriptCost(batch: Int) async throws -> ScriptCost {
        try await redis.send("FLUSHALL")
        let keys = Keys(queue: noop.queue)
        let clients = 16
        let redis = RedisPool(configuration: RedisConfiguration(url: RedisURL(host: "127.0.0.1", port: port), poolSize: clients))
        let jobs = JobQueue(redis: redis)
        let request = JobQueue.Request(type: "noop", payload: #"{"t":1234567890123456,"due":1234567890123456}"#, policy: noop)
        let requests = Array(repeating: request, count: batch)
        let start = try await cpuReading()
        try await onEachClient(clients) { _ in
            for _ in 0..<plan.scriptCalls { _ = try await jobs.enqueue(batch: requests) }
        }
        let enqueued = try await cpuReading()
        let held = try await onEachClient(clients) { client in
            var mine: [[Job]] = []
            while true {
                let reply = try await redis.pipeline([WorkerCommands.claim(keys, worker: "bench-\(client)", count: batch)])[0]
                let claimed = WorkerCommands.claimed(in: try reply.get(), queue: keys.queue)
                if claimed.isEmpty { return mine }
                mine.append(claimed)
            }
        }
        let claimed = try await cpuReading()
        try await onEachClient(clients) { client in
            for jobs in held[client] {
                let command = WorkerCommands.complete(keys, worker: "bench-\(client)", retention: WorkerConfiguration.defaultCompletedRetention,
                                                      keep: WorkerConfiguration.defaultCompletedKeep, runs: jobs.map { ($0, Duration.milliseconds(1)) })
                let codes = try await redis.pipeline([command])[0].get().array ?? []
                guard codes.count == jobs.count, codes.allSatisfy({ $0.int == 1 }) else {
                    throw BenchError("completeJobs refused a job the bench had claimed: \(codes)")
                }
            }
        }
        let completed = try await cpuReading()
        let count = clients * plan.scriptCalls * batch
        await redis.close()
        let claimedCount = held.joined().joined().count
        guard claimedCount == count else { throw BenchError("claimed \(claimedCount) of \(count) jobs") }
        return ScriptCost(enqueue: enqueued.since(start, jobs: count), claim: claimed.since(enqueued, jobs: count),
                          complete: completed.since(claimed, jobs: count))
    }

    /// Runs `body` for clients 0..<count at once; their results, by client.
    @discardableResult
    private func onEachClient<T: Sendable>(_ count: Int, _ body: @escaping @Sendable (Int) async throws -> T) async throws -> [T] {
        try await withThrowingTaskGroup(of: (Int, T).self) { group in
            for client in 0..<count { group.addTask { (client, try await body(client)) } }
            var results: [T?] = Array(repeating: nil, count: count)
            for try await (client, result) in group { results[client] = result }
            return results.compactMap { $0 }
        }
    }

    struct DrainRun {
        let rate: Double
        let workerRSSMiB: Double
        /// From the first completion seen to the last, as the rate.
        let cpu: CPUUse
    }

    /// Pre-enqueues `jobs` noop jobs, then drains them with real `redial work` processes. The
    /// rate counts from the first completion seen to the last, so process start-up is excluded.
    func drain(jobs count: Int, processes: Int, concurrency: Int, backlog: Int = 0) async throws -> DrainRun {
        try await redis.send("FLUSHALL")
        try await preload(count + backlog)
        try await compactAOF()
        try await awaitNoRehash()
        let workers = try (0..<processes).map { index in
            try ChildProcess(redial, ["work", "--queues", "bench", "--concurrency", String(concurrency)],
                             environment: ProcessInfo.processInfo.environment.merging([
                                "REDIAL_REDIS_URL": "redis://127.0.0.1:\(port)/0", "REDIAL_LOG_LEVEL": "error",
                             ]) { $1 }, logName: "bench-worker-\(index)")
        }
        var first: (count: Int, at: DispatchTime, cpu: CPUReading)?
        var last = DispatchTime.now()
        var completed = 0
        let deadline = DispatchTime.now().uptimeNanoseconds + 600_000_000_000
        while completed < count {
            try await Task.sleep(for: .milliseconds(10))
            completed = try await redis.send("HGET", Keys(queue: "bench").stats, "completed").int ?? 0
            last = DispatchTime.now()
            if first == nil, completed > 0 { first = (completed, last, try await cpuReading()) }
            if last.uptimeNanoseconds > deadline { throw BenchError("drain did not finish in 600 s (\(completed) of \(count))") }
        }
        let cpuAtEnd = try await cpuReading()
        let rss = workers.first.map { Machine.residentMiB(pid: $0.pid) } ?? 0
        for worker in workers { worker.signal(SIGTERM) }
        for worker in workers { _ = await worker.waitForExit(timeout: .seconds(30)) }
        guard let first else { throw BenchError("no job completed") }
        let seconds = Double(last.uptimeNanoseconds - first.at.uptimeNanoseconds) / 1e9
        return DrainRun(rate: Double(count - first.count) / max(seconds, 1e-3), workerRSSMiB: rss,
                        cpu: cpuAtEnd.since(first.cpu, jobs: count - first.count))
    }

    /// A steady `rate` of probe jobs from an enqueuer process of its own (so it does not share
    /// this process's threads with the worker it measures), and an in-process worker whose
    /// handler records enqueue → start latency, with a `HiccupMeter` running alongside.
    /// `floor`: the same load as bare payloads on a plain Redis list, pushed with `LPUSH` and
    /// popped by an in-process `BLMPOP` loop instead of the engine.
    func measureLatency(rate: Double, concurrency: Int, floor: Bool = false) async throws -> LatencyRun {
        try await redis.send("FLUSHALL")
        let probe = LatencyProbe()
        let running: Task<Void, any Error>
        let stop: () -> Void
        if floor {
            let port = port
            let consumer = Task { try await probe.consumeFloor(port: port) }
            (running, stop) = (consumer, { consumer.cancel() })
        } else {
            let worker = Worker(
                configuration: WorkerConfiguration(concurrency: ["latency": concurrency]),
                redis: RedisConfiguration(url: RedisURL(host: "127.0.0.1", port: port)),
                definitions: [JobDefinition(type: "probe", policy: LatencyProbe.policy, handler: probe)],
                logger: Self.workerLogger)
            (running, stop) = (Task { try await worker.run() }, { worker.stop() })
        }
        try await Task.sleep(for: .milliseconds(300))
        let rewritesBefore = try await info("persistence", "aof_rewrites")
        let cpuBefore = try await cpuReading()
        try await startRedisStallMonitor()
        let hiccups = HiccupMeter()
        defer { _ = hiccups.stop() }  // on every path; stopping twice is harmless
        let enqueuer = try ChildProcess(CommandLine.arguments[0],
                                        ["--redis-port", String(port), "--steady-enqueue", "\(rate):\(plan.latencySeconds)"] + (floor ? ["--floor"] : []),
                                        logName: "bench-enqueuer")
        guard await enqueuer.waitForExit(timeout: .seconds(Int64(plan.latencySeconds) + 60)) == 0,
              let sent = enqueuer.log.split(separator: "\n").last?.split(separator: " ").compactMap({ Int($0) }), sent.count == 2 else {
            stop()
            throw BenchError("the latency enqueuer failed: \(enqueuer.log.suffix(500))")
        }
        while probe.fromCall.withLock({ $0.totalCount }) < UInt64(sent[0]) {
            try await Task.sleep(for: .milliseconds(10))
        }
        let machine = hiccups.stop()
        let cpu = try await cpuReading().since(cpuBefore, jobs: sent[0])
        let redisStall = try await redisStalls()
        let rewrites = Int(try await info("persistence", "aof_rewrites") - rewritesBefore)
        stop()
        try await running.value
        return LatencyRun(fromCall: probe.fromCall.withLock { Percentiles($0) }, fromSchedule: probe.fromSchedule.withLock { Percentiles($0) },
                          jobs: sent[0], calls: sent[1], hiccups: machine, redisStall: redisStall, aofRewrites: rewrites, cpu: cpu)
    }

    /// The measured worker's warnings and errors (a failed fetch, a lost ack) on stderr: they
    /// explain a figure, and the worker under test must not hide them.
    static let workerLogger: Logger = {
        var logger = Logger(label: "bench-worker") { label in StreamLogHandler.standardError(label: label) }
        logger.logLevel = .warning
        return logger
    }()

    /// Compacts the AOF the preload wrote, so the drain starts where a long-running Redis would:
    /// with its file rewritten. Waits out a rewrite the preload started, then runs one more
    /// (`BGREWRITEAOF`) and waits for it. Without the second one, the preload's writes since the
    /// first had often made a rewrite due already, and it started as the drain began: with
    /// 1.2 M jobs it takes a core for 0.7–1.6 s, and at least two of the three backlog drains of
    /// one run were charged for it, while the drains from empty rewrote 200,000 jobs. Rewrites
    /// the drain's own writes start are part of the drain and stay in the figure.
    func compactAOF() async throws {
        try await awaitNoRewrite()
        try await redis.send("BGREWRITEAOF")
        try await awaitNoRewrite()
    }

    /// Waits out the growth of Redis's key table that the preload left undone.
    ///
    /// Redis doubles its key table as keys are added and then moves the keys over a step at a
    /// time: a step per command on the table, and 1 ms of steps per `hz` tick while idle. It
    /// puts the doubling off while a rewrite's child runs, so a preload of 1.2 M keys leaves the
    /// whole move from 2^20 to 2^21 slots for the drain: `perf` put `dictRehash` and
    /// `dictSdsHash` at 17 % of Redis's CPU then. A Redis that has held its backlog for a while
    /// has long finished. Redis shows a rehash only in `DEBUG HTSTATS` (`make bench` starts its
    /// Redis with `enable-debug-command local`); meanwhile `hz` goes to 500, so the idle server
    /// finishes in a second or two rather than 40, and back before the drain.
    func awaitNoRehash() async throws {
        do {
            try await redis.send("DEBUG", "HTSTATS", "0")
        } catch {
            log("cannot see whether Redis is rehashing its key table (\(error)); not waiting for it")
            return
        }
        let hz = try await redis.send("CONFIG", "GET", "hz").array?.last?.string ?? "10"
        try await redis.send("CONFIG", "SET", "hz", "500")
        let started = DispatchTime.now()
        var rehashing = true
        while rehashing && started.secondsSince < 300 {
            rehashing = try await redis.send("DEBUG", "HTSTATS", "0").string?.contains("rehashing") ?? false
            if rehashing { try await Task.sleep(for: .milliseconds(50)) }
        }
        try await redis.send("CONFIG", "SET", "hz", hz)
        if rehashing { throw BenchError("Redis's key table was still rehashing after 300 s") }
        let waited = started.secondsSince
        if waited >= 0.1 { log("waited \(String(format: "%.1f", waited)) s for Redis to finish growing its key table") }
    }

    private func awaitNoRewrite() async throws {
        let deadline = ContinuousClock.now + .seconds(300)
        while ContinuousClock.now < deadline {
            let rewrite = try await info("persistence", fields: ["aof_rewrite_in_progress", "aof_rewrite_scheduled"])
            if rewrite == [0, 0] { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw BenchError("an AOF rewrite did not finish in 300 s")
    }

    /// Median round trip of one SET: under `appendfsync always` this is Redis's own fsync latency.
    func setRoundTripMs() async throws -> Double {
        var times: [Double] = []
        for index in 0..<200 {
            let start = DispatchTime.now()
            try await redis.send("SET", "bench:rtt", index)
            times.append(start.secondsSince * 1000)
        }
        return Sample(times).median
    }

    // MARK: scale and memory

    /// Memory per waiting job, then drains with the backlog waiting, each paired with a drain
    /// from an empty queue run just before it: this machine's speed drifts within minutes, so
    /// the two are compared in the same moment, not against the drain measured minutes earlier.
    /// The figure is the median of the pairs' ratios, which keeps each comparison within its
    /// pair; a ratio of the two medians would set a drain against one from another minute.
    func measureScale(processes: Int, concurrency: Int) async throws -> ScaleResults {
        log("scale: memory of \(plan.backlog) waiting jobs, then drains from empty and with them waiting, in pairs")
        try await redis.send("FLUSHALL")
        let before = try await usedMemory()
        try await preload(plan.backlog)
        let after = try await usedMemory()
        let bytesPerJob = Double(after - before) / Double(plan.backlog)
        var empty: [Double] = []
        var backlogged: [Double] = []
        for _ in 0..<plan.scalePairs {
            empty.append(try await drain(jobs: plan.drainJobs, processes: processes, concurrency: concurrency).rate)
            backlogged.append(try await drain(jobs: plan.drainJobs, processes: processes, concurrency: concurrency, backlog: plan.backlog).rate)
            log("scale: drain \(plan.drainJobs) from empty: \(Int(empty.last!)) jobs/s; of \(plan.drainJobs + plan.backlog) waiting: \(Int(backlogged.last!)) jobs/s")
        }
        try await redis.send("FLUSHALL")
        return ScaleResults(backlog: plan.backlog, redisBytesPerWaitingJob: bytesPerJob, drainWithBacklog: backlogged, drainFromEmpty: empty)
    }

    func usedMemory() async throws -> Int {
        Int(try await info("memory", "used_memory"))
    }

    /// A numeric field of `INFO <section>`.
    func info(_ section: String, _ field: String) async throws -> Double {
        try await info(section, fields: [field])[0]
    }

    /// Numeric fields of one `INFO <section>` reply, in the order asked: read together, they
    /// describe the same instant.
    func info(_ section: String, fields: [String]) async throws -> [Double] {
        let lines = (try await redis.send("INFO", section).string ?? "").split(whereSeparator: \.isNewline)
        return try fields.map { field in
            guard let value = lines.first(where: { $0.hasPrefix("\(field):") }).flatMap({ Double($0.dropFirst(field.count + 1)) }) else {
                throw BenchError("INFO \(section) has no number \(field)")
            }
            return value
        }
    }

    /// The CPU Redis's main thread has used (user and system, as `INFO cpu` counts it) and this
    /// machine's CPU ticks, now.
    func cpuReading() async throws -> CPUReading {
        let redisCPU = try await info("cpu", fields: ["used_cpu_user_main_thread", "used_cpu_sys_main_thread"])
        return CPUReading(at: .now(), redisMainThreadSeconds: redisCPU[0] + redisCPU[1], machine: try MachineTicks.now())
    }

    /// Starts Redis's latency monitor afresh: from now on it records every main-thread event
    /// (command, AOF write, fork, …) that takes 1 ms or more.
    func startRedisStallMonitor() async throws {
        try await redis.send("CONFIG", "SET", "latency-monitor-threshold", "1")
        try await redis.send("LATENCY", "RESET")
    }

    /// The longest main-thread event Redis recorded since `startRedisStallMonitor`, and what it
    /// was; stops the monitor.
    func redisStalls() async throws -> RedisStall {
        let latest = try await redis.send("LATENCY", "LATEST").array ?? []
        try await redis.send("CONFIG", "SET", "latency-monitor-threshold", "0")
        // Each entry: event name, time of the latest, latest ms, all-time max ms.
        let worst = latest.compactMap { entry -> RedisStall? in
            guard let fields = entry.array, fields.count == 4, let event = fields[0].string, let max = fields[3].int else { return nil }
            return RedisStall(event: event, maxMs: Double(max))
        }.max { $0.maxMs < $1.maxMs }
        return worst ?? RedisStall(event: "none", maxMs: 0)
    }

    /// Progress on stderr, with the seconds since the bench started (the whole must stay under
    /// 10 minutes, so where the time goes is worth seeing).
    func log(_ text: String) {
        FileHandle.standardError.write(Data("bench: [\(Int(started.secondsSince)) s] \(text)\n".utf8))
    }
}

extension DispatchTime {
    var secondsSince: Double { Double(DispatchTime.now().uptimeNanoseconds - uptimeNanoseconds) / 1e9 }
}
