import CryptoPrimitives
import Foundation
import HTTPClient
import RedisClient
import Testing
import TestSupport

/// `POST /v1/telephony/events` against a real `redial serve` and a Redis of the test's own.
@Suite struct TelephonyEventsTests {
    let client = HTTPClient()
    static let secret = "events-test-secret-0123456789abcdef"

    func signed(_ body: String, time: Int = Int(Date().timeIntervalSince1970), secret: String = Self.secret) -> [(String, String)] {
        let mac = HMACSHA256.authenticate(Array("\(time).".utf8) + Array(body.utf8), key: Array(secret.utf8)).hexString
        return [("Content-Type", "application/json"), ("X-Signature", "t=\(time),v1=\(mac)")]
    }

    @Test func aWebhookAnswered503IsAcceptedWhenTheProviderRetriesIt() async throws {
        let redis = try await PrivateRedis()
        let admin = RedisConnection(configuration: RedisConfiguration(url: redis.url))
        // The API's user may write keys but not run scripts: the event cannot be queued, while
        // everything before that works, the failure that left a signature marked seen.
        try await admin.send("ACL", "SETUSER", "api", "on", ">pw", "~*", "+@all", "-eval", "-evalsha", "-script")
        let api = try await APIProcess(environment: ["REDIAL_REDIS_URL": "redis://api:pw@127.0.0.1:\(redis.port)/0",
                                                     "REDIAL_TELEPHONY_SECRET": Self.secret])
        defer { api.stop() }
        let event = #"{"event_id": "evt-retry-1", "call_id": "call-1", "status": "completed", "outcome": "answered", "duration_s": 30}"#
        let headers = signed(event)
        func post() async throws -> HTTPClientResponse {
            try await client.send(HTTPClientRequest(method: "POST", url: api.base + "/v1/telephony/events", headers: headers,
                                                    body: Array(event.utf8)))
        }
        let failed = try await post()
        #expect(failed.status == 503, "\(failed.text)")
        // Redis is whole again; the provider retries the very same signed request.
        try await admin.send("ACL", "SETUSER", "api", "+@all")
        let retried = try await post()
        #expect(retried.status == 200, "\(retried.text)")
        let queued = try await admin.send("KEYS", "redial:{callbacks}:dedup:callback.outcome:evt-retry-1").array ?? []
        #expect(queued.count == 1, "the event is queued")
        // Accepted once: the same request again is a replay.
        #expect(try await post().status == 401)
        await admin.close()
    }

    /// A rotated webhook secret: events signed with the new one or the one before it
    /// (`REDIAL_TELEPHONY_SECRET_PREVIOUS`, here read from a file) are accepted, any other refused.
    @Test func whileTheSecretRotatesBothAreAcceptedAndNoOther() async throws {
        let redis = try await PrivateRedis()
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("redial-previous-\(UUID().uuidString)")
        let previous = "events-previous-secret-0123456789"
        try Data((previous + "\n").utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let api = try await APIProcess(environment: ["REDIAL_REDIS_URL": redis.url.description, "REDIAL_TELEPHONY_SECRET": Self.secret,
                                                     "REDIAL_TELEPHONY_SECRET_PREVIOUS_FILE": file.path])
        defer { api.stop() }
        func post(_ event: String, _ secret: String) async throws -> HTTPClientResponse {
            try await client.send(HTTPClientRequest(method: "POST", url: api.base + "/v1/telephony/events", headers: signed(event, secret: secret),
                                                    body: Array(event.utf8)))
        }
        func event(_ id: String) -> String { #"{"event_id": "\#(id)", "call_id": "call-\#(id)", "status": "ringing"}"# }
        #expect(try await post(event("rotate-new"), Self.secret).status == 200)
        #expect(try await post(event("rotate-old"), previous).status == 200)
        let forged = try await post(event("rotate-forged"), "some-other-secret-0123456789")
        #expect(forged.status == 401 && forged.text.contains("does not match"), "\(forged.text)")
    }
}
