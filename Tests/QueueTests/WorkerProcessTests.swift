import API
import Foundation
import HTTPClient
import Jobs
import LocalServices
import Queue
import RedisClient
import Testing
import TestSupport
import Watchdog

/// Real `redial work` processes against real Redis: crashes, pauses, shutdowns, restarts.
/// Each test has a queue of its own; REDIAL_TIME_SCALE=0.05 puts the heartbeat TTL at 500 ms.
@Suite struct WorkerProcessTests {
    let redis: RedisPool
    let queue: String
    let jobs: JobQueue
    let environment: [String: String]

    init() async throws {
        redis = try await TestServices.redis()
        queue = TestServices.uniqueName("w")
        jobs = JobQueue(redis: redis)
        environment = ["REDIAL_REDIS_URL": TestServices.redisURL.description, "REDIAL_TIME_SCALE": "0.05",
                       "REDIAL_LOG_LEVEL": "debug"]
    }

    func policy(_ type: String) throws -> JobPolicy {
        var policy = try #require(try Catalog.load().first { $0.type == type }).policy
        policy.queue = queue
        return policy
    }

    func worker(_ name: String, concurrency: Int = 4, grace: Double = 10, redisURL: RedisURL? = nil,
                extra: [String: String] = [:], arguments: [String] = []) throws -> ChildProcess {
        var environment = self.environment
        if let redisURL { environment["REDIAL_REDIS_URL"] = redisURL.description }
        for (key, value) in extra { environment[key] = value }
        return try RedialBinary.start(["work", "--queues", queue, "--concurrency", String(concurrency),
                                       "--shutdown-grace", String(grace)] + arguments,
                                      environment: environment, logName: "\(queue)-\(name)")
    }

    func stats() async throws -> QueueStats { try await jobs.stats(queue: queue) }

    func started() async throws -> Int {
        try await redis.send("HGET", Keys(queue: queue).stats, "started").int ?? 0
    }

    func waitFor(_ what: String, timeout: Duration = .seconds(30), _ condition: () async throws -> Bool) async throws {
        guard try await eventually(timeout: timeout, condition) else {
            Issue.record("timed out waiting for \(what); stats: \(try await stats())")
            throw SetupError("timed out waiting for \(what)")
        }
    }

    @Test func jobsRunOnceEachWithoutCrashes() async throws {
        let noop = try policy("noop")
        _ = try await jobs.enqueue(batch: (0..<500).map { _ in .init(type: "noop", policy: noop) })
        let a = try worker("a")
        let b = try worker("b")
        try await waitFor("500 completions") { try await stats().completed == 500 }
        #expect(try await started() == 500, "a job ran twice")
        #expect(try await stats() == { var s = QueueStats(); s.completed = 500; return s }())
        a.stop(signal: SIGTERM)
        b.stop(signal: SIGTERM)
    }

    /// Every completed run counts in the queue's run-time histogram of its job type (what the
    /// release gate reads its p99 from): two slow runs among a hundred set the p99, not the
    /// median; another type's runs count apart.
    @Test func completedRunsCountInTheQueuesRunTimeHistogramByType() async throws {
        let noop = try policy("noop")
        let sleep = try policy("sleep")
        _ = try await jobs.enqueue(batch: (0..<98).map { _ in .init(type: "sleep", payload: #"{"ms": 1}"#, policy: sleep) }
                                   + (0..<2).map { _ in .init(type: "sleep", payload: #"{"ms": 400}"#, policy: sleep) }
                                   + (0..<10).map { _ in .init(type: "noop", policy: noop) })
        let process = try worker("histogram")
        try await waitFor("110 completions") { try await stats().completed == 110 }
        process.stop(signal: SIGTERM)
        let runs = RunTimeHistogram.runs(in: try await jobs.counters(queue: queue))
        #expect(Set(runs.keys) == ["sleep", "noop"], "\(runs)")
        let p99 = RunTimeHistogram.quantile(0.99, of: runs["sleep"] ?? [:])
        let median = RunTimeHistogram.quantile(0.5, of: runs["sleep"] ?? [:])
        #expect(p99.samples == 100)
        #expect((0.4...1.5).contains(p99.seconds ?? 0), "p99 \(p99), runs \(runs)")
        #expect((median.seconds ?? 1) < 0.1, "median \(median)")
        #expect(RunTimeHistogram.quantile(0.99, of: runs["noop"] ?? [:]).samples == 10)
        #expect(RunTimeHistogram.quantile(0.99, of: [:]).seconds == nil)
    }

    @Test func aPausedQueueRunsNothingSpendsNoAttemptAndResumes() async throws {
        let sleep = try policy("sleep")
        let noop = try policy("noop")
        _ = try await jobs.enqueue(.init(type: "sleep", payload: #"{"ms": 1500}"#, policy: sleep))
        let process = try worker("paused-queue", concurrency: 2)
        // Counted at its start, so a loaded machine that misses its 1.5 s of running still sees it.
        try await waitFor("the first job to start") { try await started() == 1 }
        #expect(try await jobs.pause(queue: queue, reason: "carrier down"))
        #expect(try await !jobs.pause(queue: queue, reason: "again"), "a second pause is no pause")
        #expect(try await jobs.pauseReason(queue: queue) == "carrier down")
        _ = try await jobs.enqueue(batch: (0..<20).map { _ in .init(type: "noop", policy: noop) })
        // What runs finishes; nothing more is claimed, and the jobs wait.
        try await waitFor("the running job to finish and the worker to see the pause") {
            try await stats().completed == 1 && process.log.contains("queue paused")
        }
        let paused = try await stats()
        // Out of ready are at most the one id a BLMOVE moved before the claim saw the pause: it
        // waits in the worker's landing list, not running (stats count it with the held ones).
        #expect(paused.paused && paused.completed == 1 && paused.ready >= 19 && paused.ready + paused.active == 20, "\(paused)")
        #expect(try await started() == 1, "nothing started while paused")
        #expect(try await jobs.resume(queue: queue))
        #expect(try await !jobs.resume(queue: queue))
        try await waitFor("the 20 waiting jobs to run after the resume") { try await stats().completed == 21 }
        #expect(try await started() == 21, "each job started once: no attempt was spent while paused")
        #expect(try await stats().paused == false)
        process.stop(signal: SIGTERM)
    }

    @Test func theWorkersMetricsCountWhatItDid() async throws {
        let noop = try policy("noop")
        let flaky = try policy("flaky")
        _ = try await jobs.enqueue(batch: (0..<20).map { _ in .init(type: "noop", policy: noop) })
        _ = try await jobs.enqueue(.init(type: "flaky", payload: #"{"fail_times": 99}"#, policy: flaky))
        let port = try LocalHost.freePort()
        let process = try RedialBinary.start(["work", "--queues", queue, "--metrics-port", String(port)], environment: environment,
                                             logName: "\(queue)-metrics")
        try await waitFor("20 completed and 1 dead") {
            let now = try await stats()
            return now.completed == 20 && now.dead == 1
        }
        let metrics = try await HTTPClient().send(HTTPClientRequest(url: "http://127.0.0.1:\(port)/metrics")).text
        func value(_ name: String, _ type: String) -> Double? {
            metrics.split(separator: "\n").first { $0.hasPrefix(name) && $0.contains("queue=\"\(queue)\"") && $0.contains("type=\"\(type)\"") }
                .flatMap { $0.split(separator: " ").last.flatMap { Double($0) } }
        }
        #expect(value("redial_jobs_started_total", "noop") == 20)
        #expect(value("redial_jobs_completed_total", "noop") == 20)
        #expect(value("redial_jobs_failed_total", "flaky") == Double(flaky.maxAttempts))
        #expect(value("redial_jobs_retried_total", "flaky") == Double(flaky.maxAttempts - 1))
        #expect(value("redial_jobs_dead_total", "flaky") == 1)
        #expect(metrics.contains("redial_job_wait_seconds"))
        #expect(metrics.contains("redial_job_run_seconds"))
        process.stop(signal: SIGTERM)
    }

    @Test func aKilledWorkersJobsAreRecoveredByAnother() async throws {
        let sleep = try policy("sleep")
        // 10 s runs: a loaded CI machine saw the six held so late that the victim had finished them.
        let ids = try await jobs.enqueue(batch: (0..<6).map { _ in .init(type: "sleep", payload: #"{"ms": 10000}"#, policy: sleep) })
        let victim = try worker("victim", concurrency: 6)
        try await waitFor("the victim to hold all six") { try await stats().active == 6 }
        victim.stop(signal: SIGKILL)
        let rescuer = try worker("rescuer", concurrency: 6)
        try await waitFor("all six completed by the rescuer", timeout: .seconds(60)) { try await stats().completed == 6 }
        for receipt in ids {
            let record = try #require(try await jobs.record(queue: queue, id: receipt.id))
            #expect(record.state == .completed)
            #expect(record.attempt == 2, "recovered, then run once more")
            #expect(record.lastError?.contains("stopped heartbeating") == true)
        }
        #expect(try await stats().active == 0)
        #expect(try await redis.send("HGET", Keys(queue: queue).stats, "recovered").int == 6)
        rescuer.stop(signal: SIGTERM)
    }

    @Test func aPausedWorkerThatWasReapedCannotAckItsStaleJob() async throws {
        let sleep = try policy("sleep")
        // Runs of 10 s (and 8 s below): a loaded CI machine saw a 3 s job running only after it had ended.
        let id = try await jobs.enqueue(.init(type: "sleep", payload: #"{"ms": 10000}"#, policy: sleep)).id
        let paused = try worker("paused", concurrency: 1)
        try await waitFor("the job to start") { try await stats().active == 1 }
        paused.signal(SIGSTOP)
        let other = try worker("other", concurrency: 1)
        try await waitFor("the other worker to finish the job", timeout: .seconds(60)) { try await stats().completed == 1 }
        paused.signal(SIGCONT)
        // The paused worker's handler ends and its ack is refused by the fence.
        try await waitFor("the refused ack in the paused worker's log", timeout: .seconds(10)) {
            paused.log.contains("lease lost for job \(id)")
        }
        let record = try #require(try await jobs.record(queue: queue, id: id))
        #expect(record.state == .completed)
        #expect(try await stats().completed == 1)
        paused.stop(signal: SIGTERM)
        other.stop(signal: SIGTERM)
    }

    @Test func sigtermLetsInFlightJobsFinishAndExitsZero() async throws {
        let sleep = try policy("sleep")
        _ = try await jobs.enqueue(batch: (0..<3).map { _ in .init(type: "sleep", payload: #"{"ms": 8000}"#, policy: sleep) })
        let process = try worker("drain", concurrency: 3)
        try await waitFor("three running") { try await stats().active == 3 }
        process.signal(SIGTERM)
        #expect(await process.waitForExit(timeout: .seconds(15)) == 0)
        #expect(try await stats().completed == 3)
        #expect(try await redis.send("ZCARD", Keys(queue: queue).workers) == .integer(0), "left the registry")
    }

    @Test func sigtermHandsBackJobsThatOutliveTheGracePeriod() async throws {
        let sleep = try policy("sleep")
        let ids = try await jobs.enqueue(batch: (0..<2).map { _ in .init(type: "sleep", payload: #"{"ms": 60000}"#, policy: sleep) })
        let process = try worker("handback", concurrency: 2, grace: 0.3)
        try await waitFor("two running") { try await stats().active == 2 }
        process.signal(SIGTERM)
        #expect(await process.waitForExit(timeout: .seconds(15)) == 0)
        let after = try await stats()
        #expect(after.ready == 2 && after.active == 0 && after.completed == 0)
        for receipt in ids {
            let record = try #require(try await jobs.record(queue: queue, id: receipt.id))
            #expect(record.state == .ready)
            #expect(record.attempt == 0, "a handed-back attempt is given back")
        }
    }

    @Test func retriesThenSucceedsAndDeadLettersWhenOutOfAttempts() async throws {
        let flaky = try policy("flaky")
        let recovers = try await jobs.enqueue(.init(type: "flaky", payload: #"{"fail_times": 2}"#, policy: flaky)).id
        let dies = try await jobs.enqueue(.init(type: "flaky", payload: #"{"fail_times": 99}"#, policy: flaky)).id
        let process = try worker("flaky")
        try await waitFor("one completed and one dead") {
            let now = try await stats()
            return now.completed == 1 && now.dead == 1
        }
        #expect(try await jobs.record(queue: queue, id: recovers)?.attempt == 3)
        let dead = try #require(try await jobs.record(queue: queue, id: dies))
        #expect(dead.attempt == flaky.maxAttempts)
        #expect(dead.lastError == "flaky: planned failure on attempt 5 of 99")
        process.stop(signal: SIGTERM)
    }

    @Test func deadJobsBeyondTheBoundAreDeletedOldestFirst() async throws {
        let sleep = try policy("sleep")
        var ids: [String] = []
        for _ in 0..<5 {  // one at a time, so their times of death are in this order
            // An undecodable payload: dead at once (an unknown type would be handed back first).
            ids.append(try await jobs.enqueue(.init(type: "sleep", payload: #"{"ms": "soon"}"#, policy: sleep)).id)
            try await Task.sleep(for: .milliseconds(5))
        }
        let process = try worker("dead-bound", concurrency: 1, arguments: ["--dead-keep", "2"])
        try await waitFor("five dead, three of them deleted") {
            try await redis.send("HGET", Keys(queue: queue).stats, "pruned").int == 3
        }
        #expect(try await stats().dead == 2)
        #expect(Set(try await jobs.dead(queue: queue).map(\.id)) == Set(ids.suffix(2)), "the newest are kept")
        for id in ids.prefix(3) { #expect(try await jobs.record(queue: queue, id: id) == nil) }
        process.stop(signal: SIGTERM)
    }

    @Test func aBadDeadJobBoundIsRefused() async throws {
        for arguments in [["--dead-keep", "-1"], ["--dead-retention-days", "0"]] {
            let process = try worker("bad-bound", arguments: arguments)
            #expect(await process.waitForExit(timeout: .seconds(20)) == 64, "\(arguments)")
            #expect(process.log.contains(arguments[0]), "the message names the option: \(process.log.suffix(300))")
        }
    }

    @Test func badJobsGoToDeadAtOnceWithAReason() async throws {
        let sleep = try policy("sleep")
        let undecodable = try await jobs.enqueue(.init(type: "sleep", payload: #"{"ms": "soon"}"#, policy: sleep)).id
        let wrongShape = try await jobs.enqueue(.init(type: "sleep", payload: "[1,2,3]", policy: sleep)).id
        let fine = try await jobs.enqueue(.init(type: "sleep", payload: #"{"ms": 1}"#, policy: sleep)).id
        let process = try worker("bad")
        try await waitFor("two dead, one completed") {
            let now = try await stats()
            return now.dead == 2 && now.completed == 1
        }
        #expect(try await jobs.record(queue: queue, id: undecodable)?.lastError == "payload of sleep job does not decode: field 'ms': expected Int")
        #expect(try await jobs.record(queue: queue, id: wrongShape)?.attempt == 1, "dead at once, no retries")
        #expect(try await jobs.record(queue: queue, id: fine)?.state == .completed)
        #expect(process.isRunning, "bad jobs never crash the worker")
        process.stop(signal: SIGTERM)
    }

    /// Waits until this suite's worker serves its queue: the bound of a hand-back counts from the
    /// enqueue, and a worker slow to start on a loaded machine must not spend it.
    func serving() async throws {
        try await waitFor("the worker serving") { try await jobs.liveWorkers(queues: [queue]).count == 1 }
    }

    @Test func aJobOfAnUnknownTypeIsHandedBackAndBuriedOnlyPastItsBound() async throws {
        let sleep = try policy("sleep")
        // A bound of 120 s × the time scale 0.05 = 6 s, and a snooze of 30 s × 0.05 = 1.5 s: the
        // first runs hand the job back, the first run past the bound buries it.
        let metricsPort = try LocalHost.freePort()
        let process = try worker("unknown", arguments: ["--unknown-type-hours", String(120.0 / 3600), "--metrics-port", String(metricsPort)])
        try await serving()
        let unknown = try await jobs.enqueue(.init(type: "mystery", policy: sleep)).id
        try await waitFor("handed back, without using its attempt") {
            try await redis.send("HGET", Keys(queue: queue).stats, "snoozed").int ?? 0 >= 1
        }
        let metrics = try await HTTPClient().send(HTTPClientRequest(url: "http://127.0.0.1:\(metricsPort)/metrics")).text
        #expect(metrics.contains(#"redial_jobs_unknown_type_total{queue="\#(queue)",type="mystery"}"#), "\(metrics.prefix(2000))")
        try await waitFor("dead past its bound") { try await stats().dead == 1 }
        let record = try await jobs.record(queue: queue, id: unknown)
        #expect(record?.lastError?.contains("unknown job type 'mystery'") == true)
        #expect(record?.attempt == 1, "every hand-back gave its attempt back")
        #expect(process.log.contains("handed back for a worker that knows it"))
        #expect(process.isRunning)
        process.stop(signal: SIGTERM)
    }

    @Test func aJobWithANewerPayloadVersionIsHandedBackNotMisreadAndBuriedOnlyPastItsBound() async throws {
        let process = try worker("newer", arguments: ["--unknown-type-hours", String(120.0 / 3600)])
        try await serving()
        // A newer build's `noop` payload (version 2); this worker's noop reads version 1.
        let newer = try await jobs.enqueue(.init(type: "noop", payload: #"{"payload_version": 2}"#, policy: try policy("noop"))).id
        let current = try await jobs.enqueue(.init(type: "noop", payload: #"{"payload_version": 1}"#, policy: try policy("noop"))).id
        try await waitFor("handed back, without using its attempt") {
            try await redis.send("HGET", Keys(queue: queue).stats, "snoozed").int ?? 0 >= 1
        }
        try await waitFor("the current one completed") { try await jobs.record(queue: queue, id: current)?.state == .completed }
        try await waitFor("dead past its bound") { try await stats().dead == 1 }
        let record = try await jobs.record(queue: queue, id: newer)
        #expect(record?.lastError?.contains("payload version 2 of noop is newer than this worker's 1") == true, "\(String(describing: record?.lastError))")
        #expect(record?.attempt == 1, "every hand-back gave its attempt back")
        process.stop(signal: SIGTERM)
    }

    @Test func aHandlerThatIgnoresItsTimeoutHasItsJobReleasedWhileItsWorkerLives() async throws {
        var sleep = try policy("sleep")
        sleep.timeout = .milliseconds(200)
        sleep.maxAttempts = 2
        // Stuck for a minute, deaf to cancellation, while the worker's heartbeat goes on: only the
        // worker itself can give the job up (stuck grace 10 s × the time scale 0.05 = 0.5 s).
        let id = try await jobs.enqueue(.init(type: "sleep", payload: #"{"ms": 60000, "ignore_cancellation": true}"#, policy: sleep)).id
        let process = try worker("stuck", concurrency: 2)
        try await waitFor("released twice, then dead out of attempts") { try await stats().dead == 1 }
        let record = try #require(try await jobs.record(queue: queue, id: id))
        #expect(record.attempt == 2)
        #expect(record.lastError?.hasPrefix("stuck: still running") == true, "\(record.lastError ?? "")")
        #expect(process.isRunning)
        #expect(process.log.contains("ignored its timeout's cancellation; released for another worker"))
        process.stop(signal: SIGKILL)
    }

    @Test func aJobOverItsTimeoutIsCancelledAndRetried() async throws {
        var sleep = try policy("sleep")
        sleep.timeout = .milliseconds(200)
        sleep.maxAttempts = 2
        let id = try await jobs.enqueue(.init(type: "sleep", payload: #"{"ms": 30000}"#, policy: sleep)).id
        // One lane: the retry and the jobs after it run only if the cancelled lane was replaced.
        let process = try worker("timeout", concurrency: 1)
        try await waitFor("the job to die of timeouts") { try await stats().dead == 1 }
        let record = try #require(try await jobs.record(queue: queue, id: id))
        #expect(record.attempt == 2)
        #expect(record.lastError?.contains("timed out") == true)
        // A sleep in a cancelled context fails at once ("the handler was cancelled").
        _ = try await jobs.enqueue(batch: (0..<20).map { _ in .init(type: "sleep", payload: #"{"ms": 1}"#, policy: sleep) })
        try await waitFor("20 completions after the timeouts") { try await stats().completed == 20 }
        #expect(try await stats().failed == 2, "a job after the timeouts ran in a cancelled context")
        process.stop(signal: SIGTERM)
    }

    @Test func delayedJobsRunAfterTheirTimeNotBefore() async throws {
        let noop = try policy("noop")
        let before = try await serverTime()
        let id = try await jobs.enqueue(.init(type: "noop", policy: noop, delay: .milliseconds(800))).id
        let process = try worker("delay")
        try await waitFor("completion") { try await stats().completed == 1 }
        let record = try #require(try await jobs.record(queue: queue, id: id))
        let started = Int(record.fields["started_at"] ?? "") ?? 0
        #expect(started >= before + 800)
        process.stop(signal: SIGTERM)
    }

    @Test func highPriorityJobsRunFirst() async throws {
        let noop = try policy("noop")
        var urgent = noop
        urgent.priority = .high
        let normal = try await jobs.enqueue(batch: (0..<3).map { _ in .init(type: "noop", policy: noop) }).map(\.id)
        let high = try await jobs.enqueue(.init(type: "noop", policy: urgent)).id
        let process = try worker("priority", concurrency: 1)
        try await waitFor("four completions") { try await stats().completed == 4 }
        // One slot: completion order is start order. The completed list keeps it exactly
        // (start times in ms tie on a fast machine), newest first.
        let completed = try await redis.send("LRANGE", Keys(queue: queue).completed, 0, -1).array?.compactMap(\.string) ?? []
        let order = completed.reversed().map { String($0.split(separator: ":")[1]) }
        #expect(Set(order) == Set(normal + [high]))
        #expect(order.first == high)
        process.stop(signal: SIGTERM)
    }

    @Test func aRedisRestartLosesNoAcknowledgedEnqueueAndWorkersCarryOn() async throws {
        let server = try await PrivateRedis()
        let privateRedis = RedisPool(configuration: RedisConfiguration(url: server.url))
        let privateJobs = JobQueue(redis: privateRedis)
        let sleep = try policy("sleep")
        _ = try await privateJobs.enqueue(batch: (0..<200).map { _ in .init(type: "sleep", payload: #"{"ms": 1}"#, policy: sleep) })
        server.stop()  // kill -9: only what the AOF holds survives
        try await server.start()
        #expect(try await privateJobs.stats(queue: queue).ready == 200)
        let process = try worker("restart", redisURL: server.url)
        try await waitFor("some progress") { try await privateJobs.stats(queue: queue).completed > 0 }
        server.stop()
        try await Task.sleep(for: .milliseconds(300))
        try await server.start()
        try await waitFor("every job completed after the restart", timeout: .seconds(60)) {
            let stats = try await privateJobs.stats(queue: queue)
            return stats.completed + stats.dead == 200 && stats.ready == 0 && stats.delayed == 0 && stats.active == 0
        }
        #expect(try await privateJobs.stats(queue: queue).dead == 0)
        #expect(process.isRunning)
        process.stop(signal: SIGTERM)
        await privateRedis.close()
    }

    @Test func aWorkerStartedBeforeItsRedisWaitsForItThenRuns() async throws {
        let server = try await PrivateRedis()
        server.stop()  // nothing answers on the worker's port when it starts
        let process = try worker("early", redisURL: server.url)
        // Its log, not a fixed sleep, says it got as far as Redis (a slow start on a busy
        // machine could otherwise find Redis already up).
        try await waitFor("the worker to wait for Redis") { process.log.contains("waiting for Redis") }
        #expect(process.isRunning, "a worker must wait for its Redis, not exit")
        try await server.start()
        let privateRedis = RedisPool(configuration: RedisConfiguration(url: server.url))
        let noop = try policy("noop")
        _ = try await JobQueue(redis: privateRedis).enqueue(batch: (0..<20).map { _ in .init(type: "noop", policy: noop) })
        try await waitFor("20 completions") { try await JobQueue(redis: privateRedis).stats(queue: queue).completed == 20 }
        #expect(process.log.contains("waiting for Redis"))
        process.stop(signal: SIGTERM)
        await privateRedis.close()
    }

    @Test func sigtermWhileWaitingForRedisExitsZero() async throws {
        let server = try await PrivateRedis()
        server.stop()
        let process = try worker("waiting", redisURL: server.url)
        // Its log says it is waiting (a fixed sleep raced a slow start on a busy machine: the
        // signal came before the worker had set up its handler).
        try await waitFor("the worker to wait for Redis") { process.log.contains("waiting for Redis") }
        #expect(process.isRunning)
        process.signal(SIGTERM)
        #expect(await process.waitForExit(timeout: .seconds(10)) == 0)
    }

    @Test func aWrongRedisPasswordStopsTheWorkerWithAClearError() async throws {
        let server = try await PrivateRedis(arguments: ["--requirepass", "right"])
        var url = server.url
        url.password = "wrong"
        let result = try await RedialBinary.run(["work", "--queues", queue],
                                                environment: environment.merging(["REDIAL_REDIS_URL": url.description]) { $1 })
        #expect(result.status != 0, "a wrong password does not fix itself: no waiting")
        #expect(result.output.contains("AUTH refused"))
    }

    /// `redial work` in production against `server` (the rest of its settings fit production).
    func workInProduction(_ server: PrivateRedis) async throws -> (status: Int32, output: String) {
        try await RedialBinary.run(["work", "--queues", queue], environment: environment.merging(TestServices.productionSettings) { $1 }
            .merging(["REDIAL_REDIS_URL": server.url.description]) { $1 })
    }

    @Test func productionRefusesARedisWithoutAppendOnly() async throws {
        let server = try await PrivateRedis(arguments: ["--appendonly", "no"])
        let result = try await workInProduction(server)
        #expect(result.status != 0)
        #expect(result.output.contains("refusing to run in production"))
        #expect(result.output.contains("appendonly is no: set `appendonly yes`"))
        let pool = RedisPool(configuration: RedisConfiguration(url: server.url))
        #expect(try await Preflight.findings(pool).count == 1)
        await pool.close()
    }

    @Test func productionRefusesAnAppendFsyncOfNoAndWarnsAboutEverysec() async throws {
        let refused = try await workInProduction(try await PrivateRedis(arguments: ["--appendfsync", "no"]))
        #expect(refused.status != 0)
        #expect(refused.output.contains("appendfsync is no: set `appendfsync always`"))
        let everysec = try await PrivateRedis(arguments: ["--appendfsync", "everysec"])
        let pool = RedisPool(configuration: RedisConfiguration(url: everysec.url))
        #expect(try await Preflight.findings(pool).isEmpty, "everysec is allowed")
        #expect(try await Preflight.cautions(pool).first?.contains("last second") == true)
        await pool.close()
    }

    @Test func aRedisInAnotherLayoutIsRefusedInProductionAndLeftStampedElsewhere() async throws {
        let server = try await PrivateRedis()
        let pool = RedisPool(configuration: RedisConfiguration(url: server.url))
        try await pool.send("SET", Keys.layoutVersion, "999")
        let refused = try await workInProduction(server)
        #expect(refused.status != 0)
        #expect(refused.output.contains("Redis holds data in layout 999, this build reads and writes layout \(Keys.layout)"), "\(refused.output)")
        // A development worker warns, runs, and leaves the data's stamp alone.
        let worker = try RedialBinary.start(["work", "--queues", queue], environment: environment.merging(["REDIAL_REDIS_URL": server.url.description]) { $1 },
                                            logName: "\(queue)-layout")
        #expect(try await eventually(timeout: .seconds(20)) { worker.log.contains("worker started") })
        #expect(worker.log.contains("preflight: Redis holds data in layout 999"))
        #expect(try await pool.send("GET", Keys.layoutVersion).string == "999")
        worker.stop(signal: SIGTERM)
        // A fresh Redis is stamped with this build's layout.
        let fresh = try await PrivateRedis()
        let stamped = try RedialBinary.start(["work", "--queues", queue], environment: environment.merging(["REDIAL_REDIS_URL": fresh.url.description]) { $1 },
                                             logName: "\(queue)-layout-fresh")
        let freshPool = RedisPool(configuration: RedisConfiguration(url: fresh.url))
        #expect(try await eventually(timeout: .seconds(20)) { try await freshPool.send("GET", Keys.layoutVersion).string == String(Keys.layout) })
        stamped.stop(signal: SIGTERM)
        await freshPool.close()
        await pool.close()
    }

    func serverTime() async throws -> Int {
        let time = try await redis.send("TIME").array ?? []
        return (time[0].int ?? 0) * 1000 + (time[1].int ?? 0) / 1000
    }
}

/// What a worker announces: the release it runs, read back by `redial stats` (on a Redis of its
/// own, so the count is exact).
@Suite struct WorkerReleaseTests {
    struct Stats: Decodable {
        struct Release: Decodable, Equatable {
            let channel, version, build, scripts: String
            let workers: Int
        }
        let workers: Int
        let releases: [Release]
    }

    @Test func aWorkerAnnouncesItsVersionBuildScriptsAndChannelAndStatsShowsThem() async throws {
        let redis = try await PrivateRedis()
        defer { redis.stop() }
        let environment = ["REDIAL_REDIS_URL": redis.url.description, "REDIAL_TIME_SCALE": "0.05"]
        func stats() async throws -> Stats? {
            let result = try await RedialBinary.run(["stats", "--json"], environment: environment)
            return try? JSONDecoder().decode(Stats.self, from: Data(result.output.split(separator: "\n").last { $0.hasPrefix("{") }.map(String.init)?.utf8 ?? "".utf8))
        }
        let version = try await RedialBinary.run(["--version"], environment: environment).output.trimmingCharacters(in: .whitespacesAndNewlines)
        // The linker's build id, as binutils reads it.
        let notes = Process()
        notes.executableURL = URL(fileURLWithPath: "/usr/bin/readelf")
        notes.arguments = ["-n", RedialBinary.path]
        let pipe = Pipe()
        notes.standardOutput = pipe
        try notes.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        notes.waitUntilExit()
        let build = String(try #require(text.components(separatedBy: "Build ID: ").dropFirst().first?.prefix(12), "\(text)"))

        let worker = try RedialBinary.start(["work", "--queues", "announce"], environment: environment, logName: "announce-\(redis.port)")
        #expect(try await eventually(timeout: .seconds(20)) { try await stats()?.workers == 1 })
        let release = try #require(try await stats()?.releases.first)
        #expect(release.channel == "production" && release.version == version && release.build == build && release.workers == 1, "\(release)")
        // The script set it runs: the engine's and the product's scripts.
        #expect(release.scripts == ScriptSet.version(of: QueueScripts.all.map(\.lua) + APIServer.scripts + Catalog.scripts + Watchdog.scripts))

        // Stopped, it leaves the registry: nothing is announced any more.
        worker.stop(signal: SIGTERM)
        #expect(try await eventually(timeout: .seconds(10)) { try await stats().map { $0.workers == 0 && $0.releases.isEmpty } == true })
    }
}
