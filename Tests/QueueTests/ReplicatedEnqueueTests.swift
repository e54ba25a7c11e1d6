import Foundation
import LocalServices
import Queue
import RedisClient
import Testing
import TestSupport

/// `WAIT` on enqueue (`RedisConfiguration.replicas`, a policy's `replicas`): with its replica up an
/// enqueue is acknowledged and held by the replica; with the replica gone it is refused as
/// `not_replicated` within the timeout, and once the replica is back it is acknowledged again.
@Suite struct ReplicatedEnqueueTests {
    @Test func anEnqueueNoReplicaConfirmsDoesNotCount() async throws {
        let master = try await PrivateRedis()
        let replica = try await PrivateRedis(arguments: ["--replicaof", "127.0.0.1", String(master.port)])
        defer { replica.stop(); master.stop() }
        func linked() async throws -> Bool {
            try await eventually(timeout: .seconds(20), every: .milliseconds(100)) {
                let connection = RedisConnection(configuration: RedisConfiguration(url: replica.url))
                defer { Task { await connection.close() } }
                return (try? await connection.send("INFO", "replication").string)?.contains("master_link_status:up") == true
            }
        }
        #expect(try await linked())
        var configuration = RedisConfiguration(url: master.url, poolSize: 2)
        configuration.replicas = 1
        configuration.replicaTimeout = .milliseconds(300)
        let pool = RedisPool(configuration: configuration)
        let jobs = JobQueue(redis: pool)
        let request = JobQueue.Request(type: "noop", payload: "{}", policy: JobPolicy(queue: "replicated"), dedupKey: nil)

        // A loaded machine's replica may miss 300 ms now and then: acknowledged within a few tries.
        func acknowledged() async throws -> JobQueue.Receipt {
            var receipt: JobQueue.Receipt?
            _ = try await eventually(timeout: .seconds(20)) {
                receipt = try? await jobs.enqueue(request)
                return receipt != nil
            }
            return try #require(receipt, "no enqueue acknowledged by the replica within 20 s")
        }
        let first = try await acknowledged()
        let onReplica = RedisConnection(configuration: RedisConfiguration(url: replica.url))
        #expect(try await onReplica.send("HGET", Keys(queue: "replicated").job(first.id), "state").string == "ready",
                "acknowledged means the replica holds it")
        await onReplica.close()

        replica.stop()
        await #expect {
            _ = try await jobs.enqueue(request)
        } throws: { error in
            (error as? QueueError)?.code == .notReplicated && "\(error)".contains("0 of 1 replica")
        }
        // A job type may ask for it on its own, above a pool that asks for none.
        let plain = JobQueue(redis: RedisPool(configuration: RedisConfiguration(url: master.url, poolSize: 1)))
        var asking = request
        asking.policy.replicas = 1
        await #expect(throws: QueueError.self) { _ = try await plain.enqueue(asking) }
        #expect(try await plain.enqueue(request).created, "a type that asks for none is acknowledged by the master alone")

        try await replica.start()
        #expect(try await linked())
        #expect(try await acknowledged().created, "with the replica back, acknowledged again")
        await pool.close()
    }
}
