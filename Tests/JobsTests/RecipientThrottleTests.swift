import CryptoPrimitives
import Foundation
@testable import Jobs
import RedisClient
import Testing
import TestSupport

/// `throttleRecipient.lua` on a recipient of its own: the limit holds per window, the wait is
/// the window's rest, and recipients and channels count apart.
@Suite struct RecipientThrottleTests {
    @Test func aRecipientGetsItsLimitPerWindowThenWaitsForTheWindow() async throws {
        let redis = try await TestServices.redis(poolSize: 1)
        let throttle = RecipientThrottle(redis: redis, limit: 2, window: .seconds(30), protection: .development)
        let recipient = TestServices.uniqueName("ops") + "@Example.test"
        // The window opens at the first send: what a loaded machine spends between the steps comes off it.
        let opened = ContinuousClock.now
        #expect(try await throttle.acquire(channel: "email", recipient: recipient) == nil)
        #expect(try await throttle.acquire(channel: "email", recipient: recipient.lowercased()) == nil, "addresses count case-blind")
        let wait = try #require(try await throttle.acquire(channel: "email", recipient: recipient))
        #expect(wait > .seconds(30) - (ContinuousClock.now - opened) - .milliseconds(100) && wait <= .seconds(30),
                "the rest of the window, got \(wait)")
        #expect(try await throttle.acquire(channel: "sms", recipient: recipient) == nil, "another channel counts apart")
        #expect(try await throttle.acquire(channel: "email", recipient: "other-" + recipient) == nil)
        let counter = throttle.counter(channel: "email", recipient: recipient)
        #expect(try await redis.send("GET", counter).string == "2", "a refused send is not counted")
        #expect(!counter.contains("@") && !counter.lowercased().contains("example"), "the key names no address: \(counter)")
        let ttl = try await redis.send("PTTL", counter).int ?? 0
        let spent = (ContinuousClock.now - opened).components
        #expect(ttl > 30_000 - Int(spent.seconds) * 1000 - Int(spent.attoseconds / 1_000_000_000_000_000) - 100 && ttl <= 30_000)
        try await redis.send("DEL", counter, throttle.counter(channel: "sms", recipient: recipient),
                             throttle.counter(channel: "email", recipient: "other-" + recipient))
        await redis.close()
    }
}
