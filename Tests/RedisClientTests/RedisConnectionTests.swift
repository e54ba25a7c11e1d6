import Foundation
import LocalServices
import RedisClient
import Testing
import TestSupport

@Suite struct RedisConnectionTests {
    @Test func setAndGetRoundTrip() async throws {
        let redis = try await TestServices.redis()
        let key = TestServices.uniqueName("rt")
        try await redis.send("SET", key, "hello", "PX", 60_000)
        #expect(try await redis.send("GET", key) == .bulk(Array("hello".utf8)))
        #expect(try await redis.send("GET", key + ":missing") == .null)
        #expect(try await redis.send("DEL", key) == .integer(1))
        await redis.close()
    }

    @Test func binaryPayloadsWithNULBytesRoundTrip() async throws {
        let redis = try await TestServices.redis()
        let key = TestServices.uniqueName("bin")
        let payload: [UInt8] = [0, 1, 2, 0, 255, 13, 10, 0] + Array(repeating: 0, count: 1000) + [42]
        try await redis.send("SET", key, payload, "PX", 60_000)
        #expect(try await redis.send("GET", key).bytes == payload)
        // Binary keys, too.
        let binaryKey: [UInt8] = Array(key.utf8) + [0, 0xff]
        try await redis.send("SET", binaryKey, "x", "PX", 60_000)
        #expect(try await redis.send("GET", binaryKey) == .bulk(Array("x".utf8)))
        #expect(try await redis.send("GET", key + "\u{0}") == .null)
        await redis.close()
    }

    @Test func everyArgumentTypeArrivesAsItsTextOrBytes() async throws {
        let redis = try await TestServices.redis()
        let key = TestServices.uniqueName("args")
        let text = "résumé 😀 \r\n$3\r\n*2"  // RESP's own markers inside an argument
        try await redis.send("RPUSH", key, "", text, text.dropFirst(2), Int.min, Int64.max, 0.25, [UInt8]([13, 10, 0]))
        #expect(try await redis.send("LRANGE", key, 0, -1).array?.compactMap(\.bytes) == [
            [], Array(text.utf8), Array(text.dropFirst(2).utf8), Array(String(Int.min).utf8), Array(String(Int64.max).utf8),
            Array("0.25".utf8), [13, 10, 0],
        ])
        try await redis.send("DEL", key)
        await redis.close()
    }

    @Test func serverErrorsAreTypedAndTheConnectionStaysUsable() async throws {
        let redis = try await TestServices.redis(poolSize: 1)
        let key = TestServices.uniqueName("wrongtype")
        try await redis.send("SET", key, "text", "PX", 60_000)
        await #expect {
            try await redis.send("LPUSH", key, "x")
        } throws: { error in
            (error as? RedisError)?.serverErrorKind == "WRONGTYPE"
        }
        #expect(try await redis.send("PING") == .status("PONG"))
        await redis.close()
    }

    @Test func aPipelineOf10000CommandsReturns10000RepliesInOrder() async throws {
        let redis = try await TestServices.redis()
        let key = TestServices.uniqueName("pipe")
        let commands = (1...10_000).map { _ in RedisCommand.make("INCR", key) }
        let replies = try await redis.pipeline(commands)
        #expect(replies.count == 10_000)
        #expect(replies == (1...10_000).map { .integer(Int64($0)) })
        try await redis.send("DEL", key)
        await redis.close()
    }

    @Test func pipelineKeepsErrorRepliesInPlace() async throws {
        let redis = try await TestServices.redis()
        let key = TestServices.uniqueName("pipe-err")
        let replies = try await redis.pipeline([
            .make("SET", key, "v", "PX", 60_000), .make("LPUSH", key, "x"), .make("GET", key),
        ])
        #expect(replies[0] == .status("OK"))
        #expect(replies[1].string == nil)
        if case .error(let message) = replies[1] { #expect(message.hasPrefix("WRONGTYPE")) } else { Issue.record("expected error") }
        #expect(replies[2] == .bulk(Array("v".utf8)))
        await redis.close()
    }

    @Test func scriptsRunAndReloadAfterScriptFlush() async throws {
        let server = try await PrivateRedis()
        let connection = RedisConnection(configuration: RedisConfiguration(url: server.url))
        let script = RedisScript(name: "double", source: "return tonumber(ARGV[1]) * 2 + #KEYS")
        #expect(try await connection.run(script, keys: ["a"], arguments: [20]) == .integer(41))
        try await connection.send("SCRIPT", "FLUSH")
        // NOSCRIPT now: reloaded transparently, single and pipelined.
        #expect(try await connection.run(script, keys: [], arguments: [5]) == .integer(10))
        try await connection.send("SCRIPT", "FLUSH")
        let replies = try await connection.pipeline([
            .script(script, keys: [], arguments: [1]), .make("PING"), .script(script, keys: [], arguments: [2]),
        ])
        #expect(replies == [.integer(2), .status("PONG"), .integer(4)])
        await connection.close()
    }

    @Test func serverDownIsATypedErrorWithinTheTimeout() async throws {
        let port = try LocalHost.freePort()
        let connection = RedisConnection(configuration: RedisConfiguration(
            url: RedisURL(host: "127.0.0.1", port: port), connectTimeout: .milliseconds(500)))
        await #expect {
            try await connection.send("PING")
        } throws: { error in
            guard let error = error as? RedisError else { return false }
            return error.code == .connectionFailed && error.message.contains("127.0.0.1:\(port)")
        }
    }

    @Test func reconnectsByItselfAfterTheServerRestarts() async throws {
        let server = try await PrivateRedis()
        let connection = RedisConnection(configuration: RedisConfiguration(url: server.url))
        try await connection.send("SET", "k", "before")
        server.stop()
        try await server.start()
        // The idle socket was closed by the dead server: found before sending, so this succeeds.
        #expect(try await connection.send("GET", "k") == .bulk(Array("before".utf8)))
        await connection.close()
    }

    @Test func aCallWhileTheServerIsDownFailsThenTheNextSucceeds() async throws {
        let server = try await PrivateRedis()
        let connection = RedisConnection(configuration: RedisConfiguration(url: server.url, connectTimeout: .milliseconds(300)))
        try await connection.send("PING")
        server.stop()
        await #expect(throws: RedisError.self) { try await connection.send("PING") }
        try await server.start()
        #expect(try await connection.send("PING") == .status("PONG"))
        await connection.close()
    }

    @Test func aSlowReplyTimesOutAndTheConnectionRecovers() async throws {
        let server = try await PrivateRedis()
        let slow = RedisConnection(configuration: RedisConfiguration(url: server.url, commandTimeout: .milliseconds(200)))
        // A script that keeps the server busy for 1 s.
        let busy = RedisScript(name: "busy", source: """
            local start = redis.call('TIME')
            while true do
              local now = redis.call('TIME')
              if (now[1] - start[1]) * 1000000 + (now[2] - start[2]) > 1000000 then return 1 end
            end
            """)
        await #expect {
            try await slow.run(busy, keys: [], arguments: [])
        } throws: { error in
            (error as? RedisError)?.code == .timeout
        }
        let recovered = try await eventually(timeout: .seconds(5)) {
            (try? await slow.send("PING")) == .status("PONG")
        }
        #expect(recovered)
        await slow.close()
    }

    @Test func blockingCommandsWaitTheirOwnTimeoutWithoutStarvingOtherTasks() async throws {
        let redis = try await TestServices.redis(poolSize: 8)
        let key = TestServices.uniqueName("block")
        let finished = Counter()
        // Six blocking pops, more than Swift's cooperative pool has threads on this machine.
        let blocked = Task {
            try await withThrowingTaskGroup(of: RedisValue.self) { group in
                for _ in 0..<6 {
                    group.addTask {
                        let reply = try await redis.withConnection {
                            try await $0.pipeline([.make("BLPOP", key, "2")], blocking: .seconds(2))[0]
                        }
                        await finished.increment()
                        return reply
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
        }
        try await Task.sleep(for: .milliseconds(100))
        // Another task still runs and talks to Redis while the six are blocked.
        #expect(try await redis.send("PING") == .status("PONG"))
        #expect(await finished.value == 0)
        let replies = try await blocked.value
        #expect(replies == Array(repeating: .null, count: 6))
        await redis.close()
    }

    @Test func aBlockingPopReturnsAValuePushedLater() async throws {
        let redis = try await TestServices.redis()
        let key = TestServices.uniqueName("bpop")
        async let popped = redis.withConnection { try await $0.pipeline([.make("BLPOP", key, "5")], blocking: .seconds(5))[0] }
        try await Task.sleep(for: .milliseconds(50))
        try await redis.send("RPUSH", key, "job")
        #expect(try await popped == .array([.bulk(Array(key.utf8)), .bulk(Array("job".utf8))]))
        await redis.close()
    }

    @Test func commandsPipelinedAfterABlockingOneRunWhenItUnblocks() async throws {
        let redis = try await TestServices.redis()
        let key = TestServices.uniqueName("bmove")
        let landing = key + ":landing"
        async let replies = redis.withConnection {
            try await $0.pipeline([.make("BLMOVE", key, landing, "RIGHT", "LEFT", "5"), .make("LRANGE", landing, "0", "-1")],
                                  blocking: .seconds(5))
        }
        try await Task.sleep(for: .milliseconds(50))
        try await redis.send("RPUSH", key, "job")
        // The LRANGE ran after the move, in the same round trip.
        #expect(try await replies == [.bulk(Array("job".utf8)), .array([.bulk(Array("job".utf8))])])
        await redis.close()
    }

    @Test func aBusyRedisIsTemporaryAndARefusalIsNot() async throws {
        let server = try await PrivateRedis(arguments: ["--busy-reply-threshold", "100"])
        let looping = RedisConnection(configuration: RedisConfiguration(url: server.url))
        let other = RedisConnection(configuration: RedisConfiguration(url: server.url))
        try await other.connect()
        let script = Task { try await looping.send("EVAL", "while true do end", 0) }
        var busy: RedisError?
        _ = try await eventually(timeout: .seconds(10)) {
            do {
                try await other.send("GET", "k")
                return false
            } catch let error as RedisError {
                busy = error
                return error.serverErrorKind == "BUSY"
            }
        }
        #expect(busy?.serverErrorKind == "BUSY")
        #expect(busy?.isTemporary == true, "a script will end: worth waiting out")
        try await other.send("SCRIPT", "KILL")
        await #expect(throws: RedisError.self) { try await script.value }
        #expect(try await other.send("PING") == .status("PONG"))
        #expect(RedisError(.server, "WRONGTYPE Operation against a key holding the wrong kind of value").isTemporary == false)
        #expect(RedisError(.refused, "AUTH refused").isTemporary == false)
        await looping.close()
        await other.close()
    }

    @Test func authenticatesAndSelectsTheDatabase() async throws {
        let server = try await PrivateRedis(arguments: ["--requirepass", "pw"])
        var url = server.url
        url.password = "pw"
        url.database = 3
        let connection = RedisConnection(configuration: RedisConfiguration(url: url))
        try await connection.send("SET", "k", "db3")
        #expect(try await connection.send("CLIENT", "INFO").string?.contains("db=3") == true)
        url.password = "wrong"
        let refused = RedisConnection(configuration: RedisConfiguration(url: url))
        await #expect {
            try await refused.send("PING")
        } throws: { error in
            (error as? RedisError)?.code == .refused
        }
        await connection.close()
    }
}

actor Counter {
    private(set) var value = 0
    func increment() { value += 1 }
}
