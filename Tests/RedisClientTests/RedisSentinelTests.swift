import Foundation
import Synchronization
import LocalServices
import RedisClient
import Testing
import TestSupport

/// A pool on `redis-sentinel://` follows its master: through a `kill -9` (the sentinels promote
/// the replica) and through a manual failover that demotes the master it holds connections to
/// (`READONLY` replies, `+switch-master`). A write meanwhile fails only with errors worth
/// retrying, and none lands on a server that is not master.
@Suite struct RedisSentinelTests {
    @Test func aPoolFollowsItsMasterThroughAKillAndAFailover() async throws {
        let topology = try await PrivateSentinels()
        defer { topology.stop() }
        let pool = RedisPool(configuration: RedisConfiguration(url: topology.url, connectTimeout: .milliseconds(300),
                                                               commandTimeout: .seconds(1), poolSize: 4))
        try await pool.send("SET", "before", "1")
        #expect(try await pool.send("WAIT", 1, 2000).int == 1, "the replica holds it")
        #expect(pool.sentinels?.master?.port == topology.master.port)

        // Writes until one lands on a master; anything but a temporary error is a finding.
        func writeThrough(_ key: String) async throws -> Bool {
            try await eventually(timeout: .seconds(30), every: .milliseconds(100)) {
                do {
                    try await pool.send("SET", key, "1")
                    return true
                } catch let error as RedisError {
                    if !error.isTemporary { Issue.record("not worth retrying: \(error)") }
                    return false
                }
            }
        }

        topology.master.stop()
        #expect(try await writeThrough("after-kill"), "a write lands once the replica is promoted")
        #expect(pool.sentinels?.master?.port == topology.replica.port)
        #expect(try await topology.masterPort() == topology.replica.port)
        #expect(try await pool.send("GET", "before").string == "1", "what was replicated survived")
        let epochAfterKill = try #require(pool.sentinels?.epoch)

        // The old master returns; the sentinels make it a replica of the new one.
        try await topology.master.start()
        #expect(try await eventually(timeout: .seconds(30), every: .milliseconds(200)) {
            let connection = RedisConnection(configuration: RedisConfiguration(url: topology.master.url))
            defer { Task { await connection.close() } }
            return (try? await connection.send("ROLE").array?.first?.string) == "slave"
        })
        // Synced (a replica promoted mid-sync keeps only what it had loaded).
        #expect(try await eventually(timeout: .seconds(20), every: .milliseconds(200)) {
            (try? await topology.send(topology.master.port, ["INFO", "replication"]).string)?.contains("master_link_status:up") == true
        })

        // A manual failover demotes the master the pool is connected to: it follows again. A
        // writer keeps writing meanwhile, each write counted only when `WAIT 1` confirms a replica
        // holds it: every one counted must be on the master the sentinels end with.
        try await pool.send("SET", "warm", "1")
        let acknowledged = Mutex<[String]>([])
        let writer = Task {
            var n = 0
            while !Task.isCancelled {
                n += 1
                let key = "during-failover-\(n)"
                let replies = try? await pool.withConnection { connection in
                    try await connection.pipeline([.command(["SET", key, "1"]), .command(["WAIT", 1, 200])])
                }
                if let replies, replies[0].string == "OK", replies[1].int == 1 { acknowledged.withLock { $0.append(key) } }
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        // Refused (NOGOODSLAVE) until the sentinel's periodic INFO has seen the returned server as a sound replica.
        #expect(try await eventually(timeout: .seconds(30), every: .milliseconds(500)) {
            (try? await topology.send(topology.sentinelPorts[0], ["SENTINEL", "FAILOVER", PrivateSentinels.masterName]))?.string == "OK"
        }, "the sentinels take a manual failover")
        #expect(try await eventually(timeout: .seconds(30), every: .milliseconds(100)) {
            guard try await writeThrough("after-failover") else { return false }
            return pool.sentinels?.master?.port == topology.master.port
        }, "writes go to the promoted old master")
        #expect(try #require(pool.sentinels?.epoch) > epochAfterKill)
        // The other is demoted on the sentinels' next look at it (up to 10 s; meanwhile both say
        // master, and it is +switch-master and WAIT that keep writes off the old one).
        #expect(try await eventually(timeout: .seconds(30), every: .milliseconds(200)) {
            (try? await topology.send(topology.replica.port, ["ROLE"]).array?.first?.string) == "slave"
        }, "the sentinels demote the other")
        // Until the new master's replica confirms writes again.
        let before = acknowledged.withLock { $0.count }
        #expect(try await eventually(timeout: .seconds(30), every: .milliseconds(100)) { acknowledged.withLock { $0.count } >= before + 5 })
        writer.cancel()
        await writer.value
        var missing: [String] = []
        for key in acknowledged.withLock({ $0 }) where try await pool.send("GET", key).string != "1" { missing.append(key) }
        #expect(missing.isEmpty, "acknowledged with WAIT 1, then lost: \(missing)")
        #expect(try await pool.send("GET", "after-kill").string == "1")
        await pool.close()
    }
}
