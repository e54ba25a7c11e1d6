import API
import Foundation
import Jobs
import LocalServices
import Queue
import RedisClient
import Testing
import TestSupport
import Watchdog

/// Each script run directly on crafted keys of a queue of its own.
@Suite struct QueueScriptsTests {
    let redis: RedisPool
    let keys: Keys
    let jobs: JobQueue
    let policy: JobPolicy

    init() async throws {
        redis = try await TestServices.redis()
        keys = Keys(queue: TestServices.uniqueName("q"))
        jobs = JobQueue(redis: redis)
        policy = JobPolicy(queue: keys.queue, maxAttempts: 2)
    }

    func field(_ id: String, _ name: String) async throws -> String? {
        try await redis.send("HGET", keys.job(id), name).string
    }

    func list(_ key: String) async throws -> [String] {
        try await redis.send("LRANGE", key, 0, -1).array?.compactMap(\.string) ?? []
    }

    /// A worker's held hash: id → attempt.
    func held(_ worker: String) async throws -> [String: String] {
        let flat = try await redis.send("HGETALL", keys.held(worker)).array?.compactMap(\.string) ?? []
        return Dictionary(uniqueKeysWithValues: stride(from: 0, to: flat.count - 1, by: 2).map { (flat[$0], flat[$0 + 1]) })
    }

    func claim(_ worker: String, count: Int) async throws -> [String] {
        let reply = try await redis.pipeline([WorkerCommands.claim(keys, worker: worker, count: count)])[0].get()
        let items = reply.array ?? []
        return stride(from: 0, to: items.count, by: 9).compactMap { items[$0].string }
    }

    func complete(_ id: String, worker: String, attempt: Int) async throws -> Int {
        try await completeMany([(id, attempt)], worker: worker)[0]
    }

    func completeMany(_ pairs: [(String, Int)], worker: String, retentionMs: Int = 60_000, keep: Int = 100) async throws -> [Int] {
        var arguments: [any RedisArgument] = [keys.jobPrefix, retentionMs, keep]
        for (id, attempt) in pairs { arguments += [id, attempt, "run_ms_le_5"] }
        return try await QueueScripts.completeJobs.run(on: redis, keys, .init(worker: worker), arguments: arguments).array?.compactMap(\.int) ?? []
    }

    func fail(_ id: String, worker: String, attempt: Int, mode: String, delay: Int = 0) async throws -> Int {
        try await QueueScripts.failJob.run(on: redis, keys, .init(worker: worker, job: id), arguments: [id, attempt, mode, delay, "boom"]).int ?? 0
    }

    func serverTimeMs() async throws -> Int {
        let time = try await redis.send("TIME").array ?? []
        return (time[0].int ?? 0) * 1000 + (time[1].int ?? 0) / 1000
    }

    // MARK: headers

    @Test func everyScriptHeaderListsTheKeysItsDescriptorBuilds() throws {
        // Every .lua file of the repository, wherever it lives, is one of the described scripts.
        let root = LocalHost.repositoryRoot
        let files = ["Sources", "Jobs"].flatMap { folder in
            (FileManager.default.enumerator(atPath: root.appendingPathComponent(folder).path)?.compactMap { $0 as? String } ?? [])
                .filter { $0.hasSuffix(".lua") }.map { ($0 as NSString).lastPathComponent }
        }
        let scripts = QueueScripts.all.map(\.lua) + APIServer.scripts + Catalog.scripts + Watchdog.scripts
        let fragments = Set(LuaScript.fragments.keys.map { $0 + ".lua" })
        #expect(Set(files).subtracting(fragments) == Set(scripts.map { $0.script.name + ".lua" }))
        #expect(!scripts.isEmpty && !fragments.isEmpty)
        for descriptor in scripts {
            let source = descriptor.script.source
            #expect(source.hasPrefix("-- \(descriptor.script.name):"), "\(descriptor.script.name).lua must open with its name")
            let declared = source.split(separator: "\n").flatMap { line -> [String] in
                guard line.hasPrefix("--") else { return [] }
                return line.matches(of: /KEYS\[(\d+)\]\s+(\w+)/).map { "\($0.1):\($0.2)" }
            }
            let expected = descriptor.keyNames.enumerated().map { "\($0.offset + 1):\($0.element)" }
            #expect(declared == expected, "\(descriptor.script.name).lua header vs its descriptor")
            #expect(source.contains("ARGV[1]"), "\(descriptor.script.name).lua must document its ARGV")
            #expect(source.contains("Returns"), "\(descriptor.script.name).lua must document its return codes")
            #expect(!source.contains("@include"), "\(descriptor.script.name).lua: includes are expanded")
        }
        // Each queue script builds its keys from the names: all under the queue's hash tag.
        let scope = QueueScript.Scope(worker: "w", job: "j", dedup: "d", schedule: "s")
        for script in QueueScripts.all {
            let built = script.keys(keys, scope)
            #expect(built.count == script.lua.keyNames.count && built.allSatisfy { $0.hasPrefix(keys.prefix) }, "\(script.script.name)")
        }
    }

    @Test func theScriptSetVersionCoversEveryScript() {
        let all = QueueScripts.all.map(\.lua) + APIServer.scripts + Catalog.scripts + Watchdog.scripts
        #expect(ScriptSet.version(of: all) != ScriptSet.version(of: QueueScripts.all.map(\.lua)))
        var changed = all
        changed[changed.count - 1] = LuaScript("throttleRecipient", Array((all.last!.script.source + "\n-- edited").utf8),
                                               keys: all.last!.keyNames)
        #expect(ScriptSet.version(of: changed) != ScriptSet.version(of: all))
    }

    // MARK: enqueue

    @Test func enqueueMakesAReadyJobWithServerTime() async throws {
        let before = try await serverTimeMs()
        let receipt = try await jobs.enqueue(.init(type: "noop", payload: #"{"a":1}"#, policy: policy))
        #expect(receipt.created)
        #expect(JobID.isValid(receipt.id))
        #expect(try await list(keys.ready) == [receipt.id])
        let record = try #require(try await jobs.record(queue: keys.queue, id: receipt.id))
        #expect(record.state == .ready)
        #expect(record.attempt == 0)
        #expect(record.maxAttempts == 2)
        #expect(record.payload == #"{"a":1}"#)
        #expect(Int(record.fields["enqueued_at"] ?? "") ?? 0 >= before)
    }

    @Test func aDelayedEnqueueWaitsInDelayedScoredByRunAt() async throws {
        let before = try await serverTimeMs()
        let receipt = try await jobs.enqueue(.init(type: "noop", policy: policy, delay: .seconds(30)))
        let after = try await serverTimeMs()
        let score = try await redis.send("ZSCORE", keys.delayed, receipt.id).string.flatMap { Double($0) } ?? 0
        // Between the server's clock before and after the enqueue, plus the delay (a loaded
        // machine can take a second between the two).
        #expect(score >= Double(before + 30_000) && score <= Double(after + 30_000))
        #expect(try await field(receipt.id, "state") == "delayed")
        #expect(try await list(keys.ready).isEmpty)
    }

    @Test func aDuplicateInsideTheDedupWindowReturnsTheFirstID() async throws {
        var deduped = policy
        deduped.dedupWindow = .seconds(60)
        let first = try await jobs.enqueue(.init(type: "noop", policy: deduped, dedupKey: "callback:42"))
        let second = try await jobs.enqueue(.init(type: "noop", policy: deduped, dedupKey: "callback:42"))
        let other = try await jobs.enqueue(.init(type: "noop", policy: deduped, dedupKey: "callback:43"))
        #expect(first.created && !second.created && other.created)
        #expect(second.id == first.id)
        #expect(try await list(keys.ready).count == 2)
        let ttl = try await redis.send("PTTL", keys.dedup("callback:42")).int ?? 0
        #expect(ttl > 0 && ttl <= 60_000)
    }

    @Test func aDamagedRecordGoesDeadAndStrandsNoOtherJobOfTheBatch() async throws {
        let ids = try await jobs.enqueue(batch: (0..<3).map { _ in .init(type: "noop", policy: policy) }).map(\.id)
        try await redis.send("HDEL", keys.job(ids[0]), "timeout_ms")
        try await redis.send("HSET", keys.job(ids[1]), "attempt", "lots")
        // Before, the bad attempt count stopped the script after its RPOP: three jobs in no list.
        let reply = try await redis.pipeline([WorkerCommands.claim(keys, worker: "w", count: 3)])[0].get()
        let claimed = WorkerCommands.claimed(in: reply, queue: keys.queue)
        #expect(claimed.map(\.id) == [ids[0], ids[2]], "the others run; a missing optional field is no damage")
        // The reply stays aligned past the absent field: the job after it decodes whole.
        #expect(claimed.first?.timeout == nil)
        #expect(claimed.last?.type == "noop" && claimed.last?.attempt == 1 && claimed.last?.timeout != nil)
        #expect(try await field(ids[1], "state") == "dead")
        #expect(try await field(ids[1], "last_error")?.contains("damaged record") == true)
        #expect(try await redis.send("ZSCORE", keys.dead, ids[1]) != .null)
        #expect(try await held("w") == [ids[0]: "1", ids[2]: "1"])
    }

    @Test func failJobRefusesBadArgumentsBeforeChangingAnything() async throws {
        let id = try await jobs.enqueue(.init(type: "noop", policy: policy)).id
        _ = try await claim("w", count: 1)
        for (mode, delay) in [("later", "0"), ("retry", "soon"), ("retry", "-5")] {
            await #expect(throws: RedisError.self) {
                try await QueueScripts.failJob.run(on: redis, keys, .init(worker: "w", job: id), arguments: [id, 1, mode, delay, "boom"])
            }
        }
        #expect(try await held("w") == [id: "1"], "still held: nothing was written")
        #expect(try await field(id, "state") == "active")
        // A record that lost max_attempts cannot be rescheduled: it goes to dead, not nowhere.
        try await redis.send("HDEL", keys.job(id), "max_attempts")
        #expect(try await fail(id, worker: "w", attempt: 1, mode: "retry") == 3)
        #expect(try await redis.send("ZSCORE", keys.dead, id) != .null)
        #expect(try await held("w").isEmpty)
    }

    @Test func fencesNeverRepeatThoughAttemptsAreGivenBack() async throws {
        let id = try await jobs.enqueue(.init(type: "noop", policy: policy)).id
        func claimOne(_ worker: String) async throws -> Job? {
            let reply = try await redis.pipeline([WorkerCommands.claim(keys, worker: worker, count: 1)])[0].get()
            return WorkerCommands.claimed(in: reply, queue: keys.queue).first
        }
        let first = try #require(try await claimOne("w"))
        #expect(first.attempt == 1 && first.fence == 1)
        // Handed back (a lost claim reply, a shutdown): the attempt is given back, the fence is not.
        #expect(try await QueueScripts.requeueJobs.run(on: redis, keys, .init(worker: "w"), arguments: [keys.jobPrefix, id, first.fence]).int == 1)
        let second = try #require(try await claimOne("w"))
        #expect(second.attempt == 1 && second.fence == 2)
        // The same worker holds the job again at the same attempt: only the fence tells the
        // runs apart, and the first run's late ack is refused.
        #expect(try await complete(id, worker: "w", attempt: first.fence) == -2)
        #expect(try await fail(id, worker: "w", attempt: second.fence, mode: "snooze") == 2)
        try await redis.send("ZREM", keys.delayed, id)
        try await redis.send("HSET", keys.job(id), "state", "ready")
        try await redis.send("RPUSH", keys.ready, id)
        let third = try #require(try await claimOne("w"))
        #expect(third.attempt == 1 && third.fence == 3, "a snooze gives the attempt back too, never the fence")
        #expect(try await complete(id, worker: "w", attempt: second.fence) == -2)
        #expect(try await complete(id, worker: "w", attempt: third.fence) == 1)
    }

    @Test func aDeadJobDoesNotHoldItsDedupKey() async throws {
        var deduped = policy
        deduped.dedupWindow = .seconds(60)
        let first = try await jobs.enqueue(.init(type: "noop", policy: deduped, dedupKey: "callback.check:7:1"))
        #expect(try await claim("w", count: 1) == [first.id])
        #expect(try await fail(first.id, worker: "w", attempt: 1, mode: "dead") == 3)
        // The dead job did not do the work: the same key now makes a new job, which holds the key.
        let again = try await jobs.enqueue(.init(type: "noop", policy: deduped, dedupKey: "callback.check:7:1"))
        #expect(again.created && again.id != first.id)
        #expect(try await redis.send("GET", keys.dedup("callback.check:7:1")).string == again.id)
        #expect(try await jobs.isLive(dedupKey: "callback.check:7:1", queue: keys.queue))
        // While it waits, it is the duplicate's answer; a completed job would be too.
        let third = try await jobs.enqueue(.init(type: "noop", policy: deduped, dedupKey: "callback.check:7:1"))
        #expect(!third.created && third.id == again.id)
    }

    @Test func deletingOrPruningADeadJobFreesItsDedupKeyButNotANewerHoldersKey() async throws {
        var deduped = policy
        deduped.dedupWindow = .seconds(60)
        let ids = try await jobs.enqueue(batch: ["a", "b", "c"].map { .init(type: "noop", policy: deduped, dedupKey: "k:\($0)") }).map(\.id)
        #expect(try await claim("w", count: 3).count == 3)
        for id in ids { #expect(try await fail(id, worker: "w", attempt: 1, mode: "dead") == 3) }
        #expect(try await jobs.deleteDead(queue: keys.queue, id: ids[0]))
        #expect(try await redis.send("EXISTS", keys.dedup("k:a")).int == 0, "deleted: its key is free")
        #expect(!(try await jobs.isLive(dedupKey: "k:a", queue: keys.queue)))
        // "b" was replaced by a new job under its key before its dead copy is deleted: the new one keeps the key.
        let newer = try await jobs.enqueue(.init(type: "noop", policy: deduped, dedupKey: "k:b"))
        #expect(newer.created)
        #expect(try await jobs.deleteDead(queue: keys.queue, id: ids[1]))
        #expect(try await redis.send("GET", keys.dedup("k:b")).string == newer.id)
        // Pruning (every dead job is older than -1 s) frees "c"'s key.
        let pruned = try await QueueScripts.pruneDead.run(on: redis, keys, arguments: [keys.jobPrefix, 100, -1000]).int
        #expect(pruned == 1)
        #expect(try await redis.send("EXISTS", keys.dedup("k:c")).int == 0)
    }

    @Test func aDedupKeyOutlivesItsJobsDelay() async throws {
        var deduped = policy
        deduped.dedupWindow = .seconds(60)
        // A callback asked for in 10 minutes, with a 1-minute window: the key must last until the
        // job is due and the window after it, or a second enqueue in between is not a duplicate.
        _ = try await jobs.enqueue(.init(type: "noop", policy: deduped, delay: .seconds(600), dedupKey: "callback.dial:9"))
        let ttl = try await redis.send("PTTL", keys.dedup("callback.dial:9")).int ?? 0
        #expect(ttl > 600_000 && ttl <= 660_000, "PTTL \(ttl)")
    }

    @Test func highPriorityJobsAreTakenBeforeWaitingNormalOnes() async throws {
        let a = try await jobs.enqueue(.init(type: "noop", policy: policy)).id
        let b = try await jobs.enqueue(.init(type: "noop", policy: policy)).id
        var urgent = policy
        urgent.priority = .high
        let c = try await jobs.enqueue(.init(type: "noop", policy: urgent)).id
        #expect(try await claim("w", count: 3) == [c, a, b])
    }

    @Test func aMixedBatchIsTakenInTheOrderOfOneEnqueueAtATime() async throws {
        var urgent = policy
        urgent.priority = .high
        let waiting = try await jobs.enqueue(.init(type: "noop", policy: policy)).id
        let batch = try await jobs.enqueue(batch: [
            .init(type: "noop", policy: policy), .init(type: "noop", policy: urgent),
            .init(type: "noop", policy: policy, delay: .seconds(60)), .init(type: "noop", policy: policy),
            .init(type: "noop", policy: urgent),
        ]).map(\.id)
        // The newest high-priority job goes first (front of the line), then normal ones oldest first.
        #expect(try await claim("w", count: 10) == [batch[4], batch[1], waiting, batch[0], batch[3]])
        #expect(try await redis.send("ZCARD", keys.delayed) == .integer(1))
    }

    /// A batch goes as runs of jobs that share their settings, each run's settings sent once.
    @Test func eachJobOfAMixedBatchKeepsItsOwnSettings() async throws {
        var other = policy
        other.maxAttempts = 7
        other.timeout = .seconds(42)
        other.dedupWindow = .seconds(60)
        let receipts = try await jobs.enqueue(batch: [
            .init(type: "noop", payload: #"{"n":1}"#, policy: policy),
            .init(type: "noop", payload: #"{"n":2}"#, policy: policy),
            .init(type: "other", payload: #"{"n":3}"#, policy: other, dedupKey: "k"),
            .init(type: "noop", payload: #"{"n":4}"#, policy: policy, delay: .seconds(60)),
            .init(type: "other", payload: #"{"n":5}"#, policy: other, dedupKey: "k"),
            .init(type: "noop", payload: #"{"n":6}"#, policy: policy),
        ])
        // The second job with key "k" is a duplicate of the first, though another run lies between.
        #expect(receipts.map(\.created) == [true, true, true, true, false, true])
        #expect(receipts[4].id == receipts[2].id)
        let expected: [(type: String, payload: String, maxAttempts: String, timeout: String, state: String)] = [
            ("noop", #"{"n":1}"#, "2", "\(JobPolicy.defaultTimeout.milliseconds)", "ready"),
            ("noop", #"{"n":2}"#, "2", "\(JobPolicy.defaultTimeout.milliseconds)", "ready"),
            ("other", #"{"n":3}"#, "7", "42000", "ready"),
            ("noop", #"{"n":4}"#, "2", "\(JobPolicy.defaultTimeout.milliseconds)", "delayed"),
        ]
        for (receipt, job) in zip(receipts, expected) {
            let fields = try #require(try await jobs.record(queue: keys.queue, id: receipt.id)).fields
            #expect(fields["type"] == job.type && fields["payload"] == job.payload, "\(fields)")
            #expect(fields["max_attempts"] == job.maxAttempts && fields["timeout_ms"] == job.timeout, "\(fields)")
            #expect(fields["state"] == job.state, "\(fields)")
        }
        #expect(try await field(receipts[2].id, "dedup_key") == "k")
        #expect(try await field(receipts[0].id, "dedup_key") == nil)
        #expect(try await claim("w", count: 10) == [receipts[0].id, receipts[1].id, receipts[2].id, receipts[5].id])
    }

    @Test func badEnqueuesAreRefusedWithAReason() async throws {
        await #expect { try await jobs.enqueue(.init(type: "noop", payload: "{nope", policy: policy)) }
            throws: { ($0 as? QueueError)?.message.contains("not valid JSON") == true }
        var badQueue = policy
        badQueue.queue = "a b"
        await #expect { try await jobs.enqueue(.init(type: "noop", policy: badQueue)) }
            throws: { ($0 as? QueueError)?.message.contains("queue name") == true }
        await #expect { try await jobs.enqueue(.init(type: "", policy: policy)) }
            throws: { ($0 as? QueueError)?.code == .invalidRequest }
        #expect(try await list(keys.ready).isEmpty)
    }

    // MARK: claim

    @Test func claimMovesABatchMarksItActiveAndCountsTheAttempt() async throws {
        let ids = try await jobs.enqueue(batch: (0..<5).map { _ in .init(type: "noop", policy: policy) }).map(\.id)
        let claimed = try await claim("w1", count: 3)
        #expect(claimed == Array(ids.prefix(3)))
        #expect(try await held("w1") == Dictionary(uniqueKeysWithValues: claimed.map { ($0, "1") }))
        for id in claimed {
            #expect(try await field(id, "state") == "active")
            #expect(try await field(id, "worker") == "w1")
            #expect(try await field(id, "attempt") == "1")
        }
        #expect(try await list(keys.ready).count == 2)
    }

    @Test func claimTakesWhatLandedFirstEvenWhenABLMOVEReplyWasLost() async throws {
        let ids = try await jobs.enqueue(batch: (0..<3).map { _ in .init(type: "noop", policy: policy) }).map(\.id)
        // Two BLMOVEs landed; the worker saw the reply of only one of them.
        _ = try await redis.send("LMOVE", keys.ready, keys.landing("w1"), "RIGHT", "LEFT")
        _ = try await redis.send("LMOVE", keys.ready, keys.landing("w1"), "RIGHT", "LEFT")
        #expect(try await claim("w1", count: 1) == [ids[0]])
        #expect(try await claim("w1", count: 5) == [ids[1], ids[2]], "the unseen landed id first, then ready")
        #expect(try await list(keys.landing("w1")).isEmpty)
        #expect(try await held("w1").count == 3)
        #expect(try await field(ids[1], "state") == "active")
    }

    @Test func aPausedQueueClaimsNothingNotEvenWhatLanded() async throws {
        let ids = try await jobs.enqueue(batch: (0..<2).map { _ in .init(type: "noop", policy: policy) }).map(\.id)
        try await redis.send("LMOVE", keys.ready, keys.landing("w"), "RIGHT", "LEFT")
        try await redis.send("SET", keys.paused, "test")
        let reply = try await redis.pipeline([WorkerCommands.claim(keys, worker: "w", count: 5)])[0].get()
        #expect(WorkerCommands.saysPaused(reply))
        #expect(try await list(keys.ready) == [ids[1]])
        #expect(try await list(keys.landing("w")) == [ids[0]])
        #expect(try await field(ids[0], "state") == "ready")
        try await redis.send("DEL", keys.paused)
        let resumed = try await redis.pipeline([WorkerCommands.claim(keys, worker: "w", count: 5)])[0].get()
        #expect(!WorkerCommands.saysPaused(resumed))
        #expect(Set(WorkerCommands.claimed(in: resumed, queue: keys.queue).map(\.id)) == Set(ids))
    }

    @Test func claimDropsIdsWhoseJobIsGone() async throws {
        let id = try await jobs.enqueue(.init(type: "noop", policy: policy)).id
        _ = try await redis.send("DEL", keys.job(id))
        #expect(try await claim("w1", count: 5).isEmpty)
        #expect(try await held("w1").isEmpty)
    }

    // MARK: complete and fencing

    @Test func completeFinishesTheJobAndKeepsItsRecordForTheRetention() async throws {
        let id = try await jobs.enqueue(.init(type: "noop", policy: policy)).id
        _ = try await claim("w1", count: 1)
        #expect(try await complete(id, worker: "w1", attempt: 1) == 1)
        #expect(try await field(id, "state") == "completed")
        #expect(try await held("w1").isEmpty)
        let kept = try await list(keys.completed)
        #expect(kept.count == 1 && kept[0].hasSuffix(":" + id), "kept among the completed records: \(kept)")
        #expect(try await jobs.stats(queue: keys.queue).completed == 1)
    }

    @Test func completedRecordsAreKeptUpToACountAndAnAge() async throws {
        let ids = try await jobs.enqueue(batch: (0..<5).map { _ in .init(type: "noop", policy: policy) }).map(\.id)
        _ = try await claim("w1", count: 5)
        // Three at a time at most: completing five keeps the newest three records.
        #expect(try await completeMany(ids.map { ($0, 1) }, worker: "w1", keep: 3) == [1, 1, 1, 1, 1])
        let kept = try await list(keys.completed).map { String($0.split(separator: ":")[1]) }
        #expect(kept == Array(ids.suffix(3).reversed()), "the newest three, newest first")
        for id in ids {
            let exists = try await redis.send("EXISTS", keys.job(id)).int == 1
            #expect(exists == kept.contains(id), "a record exists exactly while it is listed")
        }
        // Past the age: the next completion clears what is older than the retention.
        _ = try await redis.send("LSET", keys.completed, -1, "1:" + kept[2])
        let next = try await jobs.enqueue(.init(type: "noop", policy: policy)).id
        _ = try await claim("w1", count: 1)
        #expect(try await completeMany([(next, 1)], worker: "w1", retentionMs: 60_000, keep: 10) == [1])
        #expect(try await redis.send("EXISTS", keys.job(kept[2])).int == 0, "aged out")
        #expect(try await redis.send("EXISTS", keys.job(kept[1])).int == 1, "still young")
        #expect(try await list(keys.completed).count == 3)
        #expect(try await jobs.stats(queue: keys.queue).completed == 6)
    }

    @Test func aBatchOfCompletionsIsJudgedJobByJob() async throws {
        let ids = try await jobs.enqueue(batch: (0..<3).map { _ in .init(type: "noop", policy: policy) }).map(\.id)
        _ = try await claim("w1", count: 3)
        #expect(try await completeMany([(ids[0], 1), (ids[1], 9), (ids[2], 1)], worker: "w1") == [1, -2, 1])
        #expect(try await field(ids[1], "state") == "active")
        #expect(try await held("w1") == [ids[1]: "1"])
        #expect(try await jobs.stats(queue: keys.queue).completed == 2)
        // Only what completed counts in the run-time histogram, once per job.
        #expect(try await jobs.counters(queue: keys.queue)["run_ms_le_5"] == 2)
    }

    /// A rolled-back beta's waiting jobs move to production's queue with their settings; what a
    /// worker holds stays; a mover that died after its first step loses and doubles nothing.
    @Test func waitingJobsMoveToAnotherQueueAndAHeldOneStays() async throws {
        let beta = Keys(queue: keys.queue + "@beta")
        var onBeta = policy
        onBeta.queue = beta.queue
        onBeta.dedupWindow = .seconds(600)
        let held = try await jobs.enqueue(.init(type: "noop", payload: #"{"n": 0}"#, policy: onBeta)).id
        let claimed = try await redis.pipeline([WorkerCommands.claim(beta, worker: "w1", count: 1)])[0].get().array ?? []
        #expect(claimed.first?.string == held)
        var high = onBeta
        high.priority = .high
        _ = try await jobs.enqueue(batch: [
            .init(type: "noop", payload: #"{"n": 1}"#, policy: onBeta),
            .init(type: "noop", payload: #"{"n": 2}"#, policy: high, dedupKey: "visitor-2"),
            .init(type: "sleep", payload: #"{"ms": 3}"#, policy: onBeta, delay: .seconds(600)),
        ])
        // The first step alone, as a mover that died after it would leave things.
        let taken = try await QueueScripts.takeWaiting.run(on: redis, beta, arguments: [2, beta.jobPrefix]).array ?? []
        #expect(taken.count == 2 * 8 + 1)
        #expect(try await list(beta.moving).count == 2)

        #expect(try await jobs.moveWaiting(from: beta.queue, to: keys.queue, batch: 2) == 3)
        #expect(try await jobs.moveWaiting(from: beta.queue, to: keys.queue) == 0, "nothing twice")
        let target = try await jobs.stats(queue: keys.queue)
        #expect(target.ready == 2 && target.delayed == 1, "\(target)")
        let left = try await jobs.stats(queue: beta.queue)
        #expect(left.ready == 0 && left.delayed == 0, "\(left)")
        #expect(try await redis.send("HEXISTS", beta.held("w1"), held).int == 1, "the held job stays with its worker")
        #expect(try await redis.send("HGET", beta.job(held), "state").string == "active")
        #expect(try await list(beta.moving).isEmpty)
        #expect(try await jobs.counters(queue: beta.queue)["moved"] == 3)
        // Settings kept: payloads, the priority, the dedup key (a second enqueue is a duplicate), the run-at.
        let ready = try await list(keys.ready)
        var payloads: [String] = []
        for id in ready { payloads.append(try await field(id, "payload") ?? "") }
        #expect(Set(payloads) == [#"{"n": 1}"#, #"{"n": 2}"#])
        #expect(try await field(ready.last ?? "", "priority") == "high", "a high-priority job is taken first")
        var again = policy
        again.dedupWindow = .seconds(600)
        #expect(try await jobs.enqueue(.init(type: "noop", policy: again, dedupKey: "visitor-2")).created == false)
        let delayed = try await redis.send("ZRANGE", keys.delayed, 0, -1, "WITHSCORES").array?.compactMap(\.string) ?? []
        #expect(try await field(delayed.first ?? "", "type") == "sleep")
        let runAt = Double(delayed.last ?? "") ?? 0
        #expect(runAt > (Date().timeIntervalSince1970 + 500) * 1000, "still scheduled about 600 s out")
    }

    @Test func waitingJobsStoreOnlyWhatDiffersFromTheDefaults() async throws {
        let id = try await jobs.enqueue(.init(type: "noop", policy: policy)).id
        let stored = Set(try await redis.send("HKEYS", keys.job(id)).array?.compactMap(\.string) ?? [])
        #expect(stored == ["type", "payload", "attempt", "max_attempts", "state", "enqueued_at", "timeout_ms"])
        let record = try #require(try await jobs.record(queue: keys.queue, id: id))
        #expect(record.id == id && record.queue == keys.queue)
    }

    @Test func staleAcksAreRefused() async throws {
        let id = try await jobs.enqueue(.init(type: "noop", policy: policy)).id
        _ = try await claim("w1", count: 1)
        #expect(try await complete(id, worker: "w2", attempt: 1) == -1, "another worker's ack")
        #expect(try await complete(id, worker: "w1", attempt: 2) == -2, "another attempt's ack")
        #expect(try await fail(id, worker: "w2", attempt: 1, mode: "retry") == -1)
        #expect(try await fail(id, worker: "w1", attempt: 2, mode: "retry") == -2)
        #expect(try await field(id, "state") == "active", "refused acks change nothing")
        // The job was reaped and re-claimed by the same worker at a new attempt: the old ack is fenced.
        _ = try await redis.send("DEL", keys.alive("w1"))
        _ = try await redis.send("ZADD", keys.workers, 1, "w1")
        _ = try await reap("w1")
        _ = try await claim("w1", count: 1)
        #expect(try await complete(id, worker: "w1", attempt: 1) == -2)
        #expect(try await complete(id, worker: "w1", attempt: 2) == 1)
    }

    // MARK: fail

    @Test func failSchedulesARetryByTheServerClock() async throws {
        let id = try await jobs.enqueue(.init(type: "noop", policy: policy)).id
        _ = try await claim("w1", count: 1)
        let before = try await serverTimeMs()
        #expect(try await fail(id, worker: "w1", attempt: 1, mode: "retry", delay: 5000) == 1)
        let after = try await serverTimeMs()
        let score = Int(try await redis.send("ZSCORE", keys.delayed, id).string.flatMap { Double($0) } ?? 0)
        #expect(score >= before + 5000 && score <= after + 5000)
        #expect(try await field(id, "state") == "retry")
        #expect(try await field(id, "last_error") == "boom")
        #expect(try await held("w1").isEmpty)
    }

    /// A provider's refusal often names the number: the error is kept with it masked, so Redis
    /// holds no number a failure mentioned; ids and short counts stay as they were.
    @Test func aFailuresStoredErrorHasItsPhoneNumbersMasked() async throws {
        let id = try await jobs.enqueue(.init(type: "noop", policy: policy)).id
        let fence = try #require(WorkerCommands.claimed(in: try await redis.pipeline([WorkerCommands.claim(keys, worker: "w1", count: 1)])[0].get(),
                                                        queue: keys.queue).first?.fence)
        let reason = "gateway refused +79161234567 and +375291234567 (12582912 bytes, attempt 3 of 8, job 01J8ZK)"
        let code = try await redis.pipeline([WorkerCommands.fail(keys, worker: "w1", job: id, fence: fence, mode: "retry", delay: .zero,
                                                                 reason: reason)])[0].get().int
        #expect(code == 1)
        #expect(try await field(id, "last_error") == "gateway refused +7916•••••67 and +3752••••••67 (12582912 bytes, attempt 3 of 8, job 01J8ZK)")
        #expect(PhoneMask.maskNumbers(in: "+1234567 then +1234567890123456") == "+1234567 then +1234567890123456", "7 and 16 digits are no number")
    }

    @Test func outOfAttemptsGoesToDeadWithItsError() async throws {
        let id = try await jobs.enqueue(.init(type: "noop", policy: policy)).id
        _ = try await claim("w1", count: 1)
        #expect(try await fail(id, worker: "w1", attempt: 1, mode: "retry") == 1)
        _ = try await promote()
        _ = try await claim("w1", count: 1)
        #expect(try await fail(id, worker: "w1", attempt: 2, mode: "retry") == 3)
        #expect(try await field(id, "state") == "dead")
        #expect(try await jobs.dead(queue: keys.queue).map(\.lastError) == ["boom"])
        let stats = try await jobs.stats(queue: keys.queue)
        #expect(stats.dead == 1 && stats.failed == 2 && stats.delayed == 0)
    }

    @Test func aPermanentFailureIsDeadAtOnce() async throws {
        let id = try await jobs.enqueue(.init(type: "noop", policy: policy)).id
        _ = try await claim("w1", count: 1)
        #expect(try await fail(id, worker: "w1", attempt: 1, mode: "dead") == 3)
        #expect(try await jobs.stats(queue: keys.queue).dead == 1)
    }

    @Test func snoozeGivesTheAttemptBack() async throws {
        let id = try await jobs.enqueue(.init(type: "noop", policy: policy)).id
        _ = try await claim("w1", count: 1)
        #expect(try await fail(id, worker: "w1", attempt: 1, mode: "snooze", delay: 0) == 2)
        #expect(try await field(id, "attempt") == "0")
        _ = try await promote()
        _ = try await claim("w1", count: 1)
        #expect(try await field(id, "attempt") == "1")
    }

    // MARK: promote

    func promote() async throws -> [Int] {
        try await QueueScripts.promoteDue.run(on: redis, keys, arguments: [keys.jobPrefix, 1000])
            .array?.compactMap(\.int) ?? []
    }

    @Test func promoteMovesOnlyDueJobsAndTellsWhenTheNextIsDue() async throws {
        let due = try await jobs.enqueue(.init(type: "noop", policy: policy, delay: .milliseconds(1))).id
        let later = try await jobs.enqueue(.init(type: "noop", policy: policy, delay: .seconds(60))).id
        try await Task.sleep(for: .milliseconds(5))
        let result = try await promote()
        #expect(result[0] == 1)
        #expect(result[1] > 55_000 && result[1] <= 60_000)
        #expect(try await list(keys.ready) == [due])
        #expect(try await field(due, "state") == "ready")
        #expect(try await field(later, "state") == "delayed")
        #expect(try await promote()[0] == 0)
    }

    @Test func concurrentPromotersMoveEachJobOnce() async throws {
        _ = try await jobs.enqueue(batch: (0..<300).map { _ in .init(type: "noop", policy: policy, delay: .milliseconds(1)) })
        try await Task.sleep(for: .milliseconds(5))
        let moved = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<6 { group.addTask { try await self.promote()[0] } }
            return try await group.reduce(0, +)
        }
        #expect(moved == 300)
        #expect(Set(try await list(keys.ready)).count == 300)
        #expect(try await list(keys.ready).count == 300)
    }

    // MARK: reap

    func reap(_ worker: String) async throws -> RedisValue {
        // Workers last seen before 1000 ms after the epoch are forgotten once they hold nothing.
        try await QueueScripts.reapWorker.run(on: redis, keys, .init(worker: worker),
                            arguments: [keys.jobPrefix, worker, try await serverTimeMs() - 1000])
    }

    @Test func aHeartbeatRenewsItsKeyAndScoresTheRegistryByRedissClock() async throws {
        func beat() async throws -> Int? {
            try await QueueScripts.beatHeartbeat.run(on: redis, keys, .init(worker: "w1"), arguments: ["w1", 5000, "{}"]).int
        }
        #expect(try await beat() == 0, "the first beat finds no heartbeat")
        let before = try await serverTimeMs()
        #expect(try await beat() == 1)
        let after = try await serverTimeMs()
        let ttl = try await redis.send("PTTL", keys.alive("w1")).int ?? 0
        #expect(ttl > 0 && ttl <= 5000)
        let score = Int(try await redis.send("ZSCORE", keys.workers, "w1").string ?? "") ?? 0
        #expect(before <= score && score <= after, "scored \(score), Redis's clock read \(before)…\(after)")
        try await redis.send("DEL", keys.alive("w1"))
        #expect(try await beat() == 0, "an expired heartbeat is reported")
    }

    @Test func aReapedWorkerThatWasStillAliveStaysRegisteredSoItsLaterJobsAreFound() async throws {
        let ids = try await jobs.enqueue(batch: (0..<2).map { _ in .init(type: "noop", policy: policy) }).map(\.id)
        try await redis.send("ZADD", keys.workers, 5000, "w1")  // seen recently (after 1000)
        _ = try await claim("w1", count: 1)
        #expect(try await reap("w1") == .array([.integer(1), .integer(0)]))
        #expect(try await redis.send("ZSCORE", keys.workers, "w1") != .null, "still registered")
        // It was only starved: it fetches again (BLMOVE) and dies before its next heartbeat.
        _ = try await redis.send("LMOVE", keys.ready, keys.landing("w1"), "RIGHT", "LEFT")
        _ = try await redis.send("LMOVE", keys.ready, keys.landing("w1"), "RIGHT", "LEFT")
        #expect(try await reap("w1") == .array([.integer(2), .integer(0)]))
        #expect(Set(try await list(keys.ready)) == Set(ids))
    }

    @Test func aLiveWorkerIsNotReaped() async throws {
        _ = try await jobs.enqueue(.init(type: "noop", policy: policy))
        _ = try await claim("w1", count: 1)
        try await redis.send("SET", keys.alive("w1"), "1", "PX", 10_000)
        #expect(try await reap("w1") == .integer(-1))
        #expect(try await held("w1").count == 1)
    }

    @Test func reapingReturnsActiveAndHalfClaimedJobsAndBuriesExhaustedOnes() async throws {
        let ids = try await jobs.enqueue(batch: (0..<3).map { _ in .init(type: "noop", policy: policy) }).map(\.id)
        try await redis.send("ZADD", keys.workers, 1, "w1")
        _ = try await claim("w1", count: 1)  // ids[0] at attempt 1
        // ids[1]: attempt 2 of 2 already, so a second death is final.
        try await redis.send("HSET", keys.job(ids[1]), "attempt", "1")
        _ = try await claim("w1", count: 1)
        // ids[2]: moved by BLMOVE, never claimed (the worker died in between).
        _ = try await redis.send("LMOVE", keys.ready, keys.landing("w1"), "RIGHT", "LEFT")
        #expect(try await reap("w1") == .array([.integer(2), .integer(1)]))
        #expect(Set(try await list(keys.ready)) == [ids[0], ids[2]])
        #expect(try await field(ids[0], "state") == "ready")
        #expect(try await field(ids[0], "last_error")?.contains("stopped heartbeating") == true)
        #expect(try await field(ids[1], "state") == "dead")
        #expect(try await redis.send("ZSCORE", keys.workers, "w1") == .null, "silent since long ago: forgotten")
        #expect(try await redis.send("EXISTS", keys.landing("w1"), keys.held("w1")) == .integer(0))
    }

    @Test func reapingNeverOverwritesAJobSomeoneElseNowHolds() async throws {
        let id = try await jobs.enqueue(.init(type: "noop", policy: policy)).id
        _ = try await claim("w1", count: 1)
        // Simulate the race: the job now belongs to w2 (at a later attempt), yet w1 still has an entry for it.
        try await redis.send("HSET", keys.job(id), "worker", "w2", "attempt", "2")
        try await redis.send("HSET", keys.held("w2"), id, "2")
        #expect(try await reap("w1") == .array([.integer(0), .integer(0)]))
        #expect(try await field(id, "worker") == "w2")
        #expect(try await field(id, "state") == "active")
        #expect(try await list(keys.ready).isEmpty)
    }

    // MARK: hand back, retry, delete

    @Test func requeueHandsBackHeldJobsWithTheirAttemptAndSkipsOthers() async throws {
        let ids = try await jobs.enqueue(batch: (0..<2).map { _ in .init(type: "noop", policy: policy) }).map(\.id)
        _ = try await claim("w1", count: 2)
        let count = try await QueueScripts.requeueJobs.run(on: redis, keys, .init(worker: "w1"), arguments: [keys.jobPrefix, ids[0], 1, ids[1], 7]).int
        #expect(count == 1)
        #expect(try await field(ids[0], "state") == "ready")
        #expect(try await field(ids[0], "attempt") == "0")
        #expect(try await field(ids[1], "state") == "active", "wrong attempt: left alone")
        #expect(try await held("w1") == [ids[1]: "1"])
    }

    @Test func deadJobsAreKeptUpToACountAndAnAge() async throws {
        let ids = try await jobs.enqueue(batch: (0..<5).map { _ in .init(type: "noop", policy: policy) }).map(\.id)
        _ = try await claim("w1", count: 5)
        for id in ids { #expect(try await fail(id, worker: "w1", attempt: 1, mode: "dead") == 3) }
        // Times of death: ids[0] long ago, the others in order.
        for (id, at) in zip(ids, [1000, 5000, 6000, 7000, 8000]) { try await redis.send("ZADD", keys.dead, at, id) }
        func prune(keep: Int, before: Int) async throws -> Int {
            try await QueueScripts.pruneDead.run(on: redis, keys, arguments: [keys.jobPrefix, keep, try await serverTimeMs() - before]).int ?? -1
        }
        // Past the age: ids[0]; past the newest three: ids[1].
        #expect(try await prune(keep: 3, before: 2000) == 2)
        #expect(try await redis.send("ZRANGE", keys.dead, 0, -1).array?.compactMap(\.string) == Array(ids[2...]))
        for id in ids.prefix(2) { #expect(try await jobs.record(queue: keys.queue, id: id) == nil, "its record goes too") }
        for id in ids.suffix(3) { #expect(try await field(id, "state") == "dead") }
        #expect(try await prune(keep: 3, before: 2000) == 0)
        #expect(try await prune(keep: 0, before: 7000) == 3, "keep 0: none is kept")
        #expect(try await redis.send("HGET", keys.stats, "pruned").int == 5)
    }

    @Test func deadJobsCanBeRetriedOrDeletedByHand() async throws {
        let ids = try await jobs.enqueue(batch: (0..<2).map { _ in .init(type: "noop", policy: policy) }).map(\.id)
        _ = try await claim("w1", count: 2)
        for id in ids { _ = try await fail(id, worker: "w1", attempt: 1, mode: "dead") }
        #expect(try await jobs.retryDead(queue: keys.queue, id: ids[0]))
        #expect(try await field(ids[0], "state") == "ready")
        #expect(try await field(ids[0], "attempt") == "0")
        #expect(try await !jobs.retryDead(queue: keys.queue, id: ids[0]), "not dead any more")
        #expect(try await !jobs.deleteDead(queue: keys.queue, id: ids[0]), "only dead jobs are deleted")
        #expect(try await jobs.deleteDead(queue: keys.queue, id: ids[1]))
        #expect(try await jobs.record(queue: keys.queue, id: ids[1]) == nil)
        #expect(try await jobs.stats(queue: keys.queue).dead == 0)
    }
}
