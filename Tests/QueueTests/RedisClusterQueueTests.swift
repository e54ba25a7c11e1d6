import Foundation
import Jobs
import LocalServices
import Queue
import RedisClient
import Synchronization
import Testing
import TestSupport

/// The engine on a Redis Cluster: two queues on different masters served by one `redial work`,
/// jobs flowing while one queue's slot is migrated to another master (keys moved a few at a
/// time, so the queue's scripts meet `ASK` and `TRYAGAIN`) and while the other's master is
/// killed and its replica promoted. Every enqueue acknowledged (with `WAIT 1`) completes; on the
/// migrated queue none runs twice.
@Suite(.serialized) struct RedisClusterQueueTests {
    @Test func queuesOnTwoShardsFlowThroughAMigrationAndAFailover() async throws {
        let cluster = try await PrivateRedisCluster()
        defer { cluster.stop() }
        var configuration = RedisConfiguration(url: cluster.url, connectTimeout: .milliseconds(300), commandTimeout: .seconds(2))
        configuration.replicas = 1
        let pool = RedisPool(configuration: configuration)
        let jobs = JobQueue(redis: pool)

        // Two queues whose slots are on different masters.
        var byMaster: [Int: String] = [:]
        for n in 0..<100 where byMaster.count < 2 {
            let name = "shard-\(n)"
            if let port = await cluster.admin.masterPort(ofSlot: HashSlot.of(name)), byMaster[port] == nil { byMaster[port] = name }
        }
        let queues = byMaster.values.sorted()
        try #require(queues.count == 2)
        let (migrated, failed) = (queues[0], queues[1])

        let worker = try RedialBinary.start(["work", "--queues", queues.joined(separator: ","), "--concurrency", "8"],
                                            environment: ["REDIAL_REDIS_URL": cluster.url.description, "REDIAL_TIME_SCALE": "0.05"],
                                            logName: "cluster-queue-worker-\(UInt16.random(in: 0...UInt16.max))")
        defer { worker.stop(signal: SIGTERM) }
        let noop = try #require(try Catalog.load().first { $0.type == "noop" }).policy
        let acknowledged = Mutex<[String: [String]]>([:])
        let refused = Mutex(0)
        let producer = Task {
            while !Task.isCancelled {
                for queue in queues {
                    var policy = noop
                    policy.queue = queue
                    do {
                        let receipts = try await jobs.enqueue(batch: (0..<5).map { _ in .init(type: "noop", policy: policy) })
                        acknowledged.withLock { $0[queue, default: []] += receipts.map(\.id) }
                    } catch {
                        // Not acknowledged (a failover, a slot on the move): the caller retries; not counted.
                        refused.withLock { $0 += 1 }
                    }
                }
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        func completed(_ queue: String) async -> Int { (try? await jobs.stats(queue: queue).completed) ?? 0 }
        func progress(_ queue: String, by count: Int, _ what: String) async throws {
            let start = await completed(queue)
            let moved = try await eventually(timeout: .seconds(60), every: .milliseconds(100)) { await completed(queue) >= start + count }
            if !moved { Issue.record("\(queue): no progress \(what); worker log:\n\(worker.log.suffix(3000))") }
            try #require(moved)
        }
        for queue in queues { try await progress(queue, by: 100, "at first") }
        #expect(Set(try await jobs.queues()).isSuperset(of: queues), "the queue set lists both")

        // The migrated queue's slot moves to another master, five keys at a time.
        let slot = HashSlot.of(migrated)
        let source = try #require(await cluster.admin.masterPort(ofSlot: slot))
        let target = try #require(await cluster.admin.masterPorts().first { $0 != source })
        let moved = try await cluster.admin.migrate(slot: slot, to: target)
        #expect(moved > 15, "the slot held keys to move (\(moved))")
        #expect(await cluster.admin.masterPort(ofSlot: slot) == target)
        try await progress(migrated, by: 100, "after its slot moved")

        // The other queue's master killed: its replica takes over.
        let dead = try #require(await cluster.admin.masterPort(ofSlot: HashSlot.of(failed)))
        cluster.server(onPort: dead)?.stop()
        #expect(try await eventually(timeout: .seconds(30), every: .milliseconds(200)) {
            await cluster.admin.masterPort(ofSlot: HashSlot.of(failed)).map { $0 != dead } ?? false
        }, "the replica is promoted")
        try await progress(failed, by: 100, "after its master failed over")
        producer.cancel()
        _ = await producer.value

        // Every acknowledged job completed.
        for queue in queues {
            let ids = acknowledged.withLock { $0[queue] ?? [] }
            let keys = Keys(queue: queue)
            var states: [String: Int] = [:]
            let done = try await eventually(timeout: .seconds(60), every: .milliseconds(500)) {
                states = [:]
                for chunk in stride(from: 0, to: ids.count, by: 500).map({ Array(ids[$0..<min($0 + 500, ids.count)]) }) {
                    for reply in try await pool.pipeline(chunk.map { .make("HGET", keys.job($0), "state") }) {
                        states[try reply.get().string ?? "missing", default: 0] += 1
                    }
                }
                return states == ["completed": ids.count]
            }
            #expect(done, "\(queue): of \(ids.count) acknowledged: \(states)")
        }
        let stats = try await jobs.stats(queue: migrated)
        let started = try await pool.send("HGET", Keys(queue: migrated).stats, "started").int ?? 0
        #expect(started == stats.completed && stats.failed == 0 && stats.dead == 0, "on the migrated queue none ran twice: \(stats), started \(started)")
        print("cluster queues: \(acknowledged.withLock { $0.mapValues(\.count) }) acknowledged, \(refused.withLock { $0 }) batches refused")
    }
}
