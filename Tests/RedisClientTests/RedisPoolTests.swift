import RedisClient
import Testing
import TestSupport

@Suite struct RedisPoolTests {
    @Test func manyTasksShareAFewConnections() async throws {
        let redis = try await TestServices.redis(poolSize: 3)
        let key = TestServices.uniqueName("pool")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<200 { group.addTask { try await redis.send("INCR", key) } }
            try await group.waitForAll()
        }
        #expect(try await redis.send("GET", key).int == 200)
        let clients = try await redis.send("CLIENT", "LIST").string ?? ""
        #expect(clients.split(separator: "\n").count >= 1)
        try await redis.send("DEL", key)
        await redis.close()
    }

    @Test func aClosedPoolRefusesWork() async throws {
        let redis = try await TestServices.redis(poolSize: 1)
        await redis.close()
        await #expect {
            try await redis.send("PING")
        } throws: { error in
            (error as? RedisError)?.code == .closed
        }
    }
}
