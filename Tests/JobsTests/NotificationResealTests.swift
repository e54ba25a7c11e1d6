import CryptoPrimitives
import Foundation
@testable import Jobs
import Queue
import RedisClient
import Testing
import TestSupport

/// Notification payloads across versions and keys: a version-2 payload carries no recipient or
/// variable in clear; `data.reseal`'s rewrite moves one sealed by an old key to the new one and
/// seals a version-1 payload's clear content, keeping its effect key; what a queued job then
/// opens is what was sent. On a Redis of its own: the rewrite visits every queue it finds.
@Suite struct NotificationResealTests {
    func ring(_ text: String) throws -> DataProtection {
        try DataProtection(ring: text, lookupKey: Array(DataProtection.developmentLookupKey.utf8))
    }

    @Test func oldKeysAndVersionOnePayloadsAreSealedAgainInPlace() async throws {
        let k1 = "k1:" + Data(repeating: 1, count: 32).base64EncodedString(), k2 = "k2:" + Data(repeating: 2, count: 32).base64EncodedString()
        let old = try ring(k1), both = try ring("\(k2),\(k1)")
        let content = Notification<SMSChannel>.Content(to: "+79160000101", variables: ["visitor": "+79161112233", "site": "Shop"])
        let sealed = try Notification<SMSChannel>(siteID: "s", message: "callback_failed", effectKey: "sms:callback_failed:c:lookup",
                                                  content: content, protection: old)
        let v2 = try Job.payload(sealed)
        #expect(v2.contains(#""payload_version":2"#) && v2.contains(#""sealed":"v1.k1."#))
        #expect(!v2.contains("9160000101") && !v2.contains("9161112233") && !v2.contains("Shop"))
        let v1 = #"{"effect_key":"sms:callback_failed:c:+79160000101","message":"callback_failed","site_id":"s","to":"+79160000101","variables":{"site":"Shop","visitor":"+79161112233"}}"#

        let redis = try await PrivateRedis()
        defer { redis.stop() }
        let pool = RedisPool(configuration: RedisConfiguration(url: redis.url, poolSize: 1))
        defer { Task { await pool.close() } }
        let jobs = JobQueue(redis: pool)
        let policy = JobPolicy(queue: "notifications")
        let ids = try await jobs.enqueue(batch: [JobQueue.Request(type: "notify.sms", payload: v2, policy: policy),
                                                  JobQueue.Request(type: "notify.sms", payload: v1, policy: policy),
                                                  JobQueue.Request(type: "noop", payload: v1, policy: policy)]).map(\.id)
        let rewritten = try await jobs.rewritePayloads(types: ["notify.sms"]) { _, payload in
            try Notification<SMSChannel>.resealed(payload, protection: both)
        }
        #expect(rewritten == 2)
        let payloads = try await pool.pipeline(ids.map { .make("HGET", Keys(queue: "notifications").job($0), "payload") }).map { try $0.get().string ?? "" }
        #expect(payloads[2] == v1, "a job of another type is left alone")
        for payload in payloads.prefix(2) {
            #expect(payload.contains(#""sealed":"v1.k2."#) && payload.contains(#""payload_version":2"#))
            #expect(!payload.contains(#""to""#) && !payload.contains("variables") && !payload.contains("9161112233"))
            let job = try JSONDecoder().decode(Notification<SMSChannel>.self, from: Data(payload.utf8))
            let opened = try job.content(try ring(k2))
            #expect(opened.to == content.to && opened.variables == content.variables)
        }
        #expect(payloads[1].contains(#""effect_key":"sms:callback_failed:c:+79160000101""#), "a version-1 job keeps its effect key")
        #expect(try await jobs.rewritePayloads(types: ["notify.sms"]) { _, payload in
            try Notification<SMSChannel>.resealed(payload, protection: both)
        } == 0, "nothing left to do")
    }
}
