import Foundation
import LocalServices
import RedisClient
import Testing
import TestSupport

/// A pool on `redis-cluster://` sends each command to the master of its key's slot, keeps a
/// pipeline's answers in order across masters, loads scripts on each master, and follows the
/// cluster as it changes: `ASK` while a slot migrates, `TRYAGAIN` while its keys are on both
/// sides, `MOVED` once it has moved, and a master's replica promoted after a `kill -9`.
@Suite(.serialized) struct RedisClusterTests {
    @Test func slotsAreRedisClusters() {
        #expect(HashSlot.of("123456789") == 0x31C3 % HashSlot.count, "CRC16/XMODEM check value")
        #expect(HashSlot.of("foo") == 12182)
        #expect(HashSlot.of("{user1000}.following") == HashSlot.of("{user1000}.followers"))
        #expect(HashSlot.of("redial:{callbacks}:ready") == HashSlot.of("callbacks"))
        #expect(HashSlot.of("foo{}{bar}") != HashSlot.of("bar"), "an empty tag hashes the whole key")
    }

    @Test func aPoolFollowsTheClusterThroughAMigrationAndAFailover() async throws {
        let cluster = try await PrivateRedisCluster()
        defer { cluster.stop() }
        let pool = RedisPool(configuration: RedisConfiguration(url: cluster.url, connectTimeout: .milliseconds(300),
                                                               commandTimeout: .seconds(1), poolSize: 4))
        defer { Task { await pool.close() } }
        let any = cluster.servers[0].port
        for key in ["foo", "foo{}{bar}", "{a}b", "redial:{callbacks}:ready", "x{y}z{w}", "{}{a}", "{{a}}", "é{ü}"] {
            #expect(try await cluster.send(any, ["CLUSTER", "KEYSLOT", key]).int == HashSlot.of(key), "slot of \(key)")
        }

        // Keys over every master; one pipeline across slots answers in its own order.
        let keys = (0..<60).map { "key-\($0)" }
        let replies = try await pool.pipeline(keys.map { .make("SET", $0, "v-" + $0) } + keys.map { .make("GET", $0) })
        #expect(replies.suffix(60).map(\.string) == keys.map { "v-" + $0 })
        let sizes = try await pool.sendToEachServer("DBSIZE").map { $0.reply.int ?? 0 }
        #expect(sizes.count == 3 && sizes.allSatisfy { $0 > 0 } && sizes.reduce(0, +) == 60, "every master holds some: \(sizes)")

        // A script is loaded on each master the first time it runs there.
        let script = RedisScript(name: "echoKey", source: "return redis.call('GET', KEYS[1])")
        for key in keys.prefix(12) { #expect(try await pool.run(script, keys: [key], arguments: []).string == "v-" + key) }
        // WAIT goes to the master of the write before it, and counts its replica.
        let waited = try await pool.withConnection { try await $0.pipeline([.make("SET", "key-0", "w"), .make("WAIT", 1, 2000)]) }
        #expect(waited[1].int == 1)

        // A slot migrating from its master to another: keys on both sides.
        let slot = HashSlot.of("{moving}")
        let source = try #require(await cluster.admin.masterPort(ofSlot: slot))
        let target = try #require(await cluster.admin.masterPorts().first { $0 != source })
        let moving = (0..<20).map { "{moving}:\($0)" }
        for key in moving { try await pool.send("SET", key, key) }
        let sourceID = try await cluster.admin.nodeID(source)
        let targetID = try await cluster.admin.nodeID(target)
        #expect(try await cluster.send(target, ["CLUSTER", "SETSLOT", String(slot), "IMPORTING", sourceID]).string == "OK")
        #expect(try await cluster.send(source, ["CLUSTER", "SETSLOT", String(slot), "MIGRATING", targetID]).string == "OK")
        _ = try await cluster.send(source, ["MIGRATE", "127.0.0.1", String(target), "", "0", "5000", "KEYS"] + moving.prefix(10))
        for key in moving { #expect(try await pool.send("GET", key).string == key, "\(key) read on either side (ASK)") }
        try await pool.send("SET", "{moving}:new", "new")
        let onTarget = RedisConnection(configuration: RedisConfiguration(url: RedisURL(host: "127.0.0.1", port: target)))
        #expect(try await onTarget.pipeline([.make("ASKING"), .make("EXISTS", "{moving}:new")])[1].int == 1,
                "a key new to a migrating slot is written where the slot is going (ASK)")
        await onTarget.close()
        #expect(try await pool.send("GET", "{moving}:new").string == "new")
        // Keys split over both sides: TRYAGAIN until the migration ends.
        let split = Task { try await pool.send("MGET", moving[0], moving[19]) }
        try await Task.sleep(for: .milliseconds(150))
        _ = try await cluster.send(source, ["MIGRATE", "127.0.0.1", String(target), "", "0", "5000", "KEYS"] + moving.suffix(10))
        for port in await cluster.admin.masterPorts() {
            _ = try await cluster.send(port, ["CLUSTER", "SETSLOT", String(slot), "NODE", targetID])
        }
        #expect(try await split.value.array?.map(\.string) == [moving[0], moving[19]])
        for key in moving { #expect(try await pool.send("GET", key).string == key, "\(key) after the move (MOVED)") }
        #expect(pool.cluster?.masters.contains(RedisURL.Address(host: "127.0.0.1", port: target)) == true)
        // SCAN with a tagged pattern goes to the master of that tag, which holds every key it can match.
        var cursor = "0", scanned: Set<String> = []
        repeat {
            let reply = try #require(try await pool.send("SCAN", cursor, "MATCH", "{moving}:*", "COUNT", 100).array)
            cursor = try #require(reply[0].string)
            scanned.formUnion(reply[1].array?.compactMap(\.string) ?? [])
        } while cursor != "0"
        #expect(scanned == Set(moving + ["{moving}:new"]))
        await #expect(throws: RedisError.self, "the old master sends the slot's commands on") {
            try await cluster.send(source, ["GET", moving[0]])
        }

        // The master of key-1 killed: its replica takes over; a write fails meanwhile only with
        // errors worth retrying, and lands once the replica is master.
        try await pool.send("SET", "key-1", "before")
        #expect(try await pool.withConnection { try await $0.pipeline([.make("SET", "key-1", "before"), .make("WAIT", 1, 2000)]) }[1].int == 1)
        let dead = try #require(await cluster.admin.masterPort(ofSlot: HashSlot.of("key-1")))
        cluster.server(onPort: dead)?.stop()
        let landed = try await eventually(timeout: .seconds(30), every: .milliseconds(100)) {
            do {
                try await pool.send("SET", "key-1-after", "1")
                return try await pool.send("GET", "key-1").string == "before"
            } catch let error as RedisError {
                if !error.isTemporary { Issue.record("not worth retrying: \(error)") }
                return false
            }
        }
        #expect(landed, "a write to the dead master's slots lands once its replica is promoted")
        let promoted = try #require(await cluster.admin.masterPort(ofSlot: HashSlot.of("key-1")))
        #expect(promoted != dead)
        for key in keys where key != "key-0" && key != "key-1" { #expect(try await pool.send("GET", key).string == "v-" + key) }
    }
}
