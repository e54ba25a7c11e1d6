import CryptoPrimitives
import Domain
import Foundation
import HTTPClient
import LocalServices
import PostgresClient
import Queue
import RedisClient
import Testing
import TestSupport

/// The promise under a carrier that does not answer clearly and under bad data: a call the
/// carrier placed is never placed again, a scheduled callback never rings early, and a wild
/// number from the carrier or a job cannot crash a worker. Part of the serialized dial suite.
extension DialFlowTests {
    func setFaults(_ cluster: Cluster, _ json: String) async throws {
        let response = try await client.send(HTTPClientRequest(method: "POST", url: cluster.sandboxURL + "/sandbox/faults",
                                                               headers: [("Content-Type", "application/json")], body: Array(json.utf8)))
        #expect(response.status == 200, "\(response.text)")
    }

    /// Rings per visitor (the invariant is about people, not keys).
    func ringsPerVisitor(_ cluster: Cluster, visitors: Set<String>) async throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for ring in try await cluster.rings() where visitors.contains(ring["visitor"] as? String ?? "") {
            counts[ring["visitor"] as? String ?? "", default: 0] += 1
        }
        return counts
    }

    func balance(_ siteID: String) async throws -> Int {
        try await database.query("SELECT balance_minutes FROM sites WHERE id = $1::uuid", [siteID])[0].decode("balance_minutes")
    }

    /// Every visitor answered, rung once, completed, debited once: the carrier's answer to the
    /// first originate of every attempt is `fault`.
    func expectEachVisitorRungOnce(fault: String, settings: [String: String] = [:]) async throws {
        let cluster = try await Cluster(settings: settings)
        defer { cluster.stop() }
        try await setFaults(cluster, fault)
        let (siteID, key) = try await site(balance: 100)
        let phones = (0..<5).map { _ in number(0) }
        var ids: [String] = []
        for phone in phones { ids.append(try await request(cluster, key: key, phone: phone)) }
        try await waitTerminal(ids, timeout: .seconds(120))
        for id in ids { #expect(try await state(id) == Row(status: "completed", reason: nil, attempts: 1)) }
        let rings = try await ringsPerVisitor(cluster, visitors: Set(phones))
        #expect(rings.count == phones.count && rings.values.allSatisfy { $0 == 1 }, "rings per visitor: \(rings)")
        #expect(try await balance(siteID) == 100 - phones.count, "each answered call of 30 s debited once")
    }

    @Test func aCallPlacedThenAnsweredWithAnErrorIsNotPlacedAgain() async throws {
        try await expectEachVisitorRungOnce(fault: #"{"place_then_fail": 1}"#)
    }

    @Test func aCallPlacedAfterTheClientGaveUpIsNotPlacedAgain() async throws {
        try await expectEachVisitorRungOnce(fault: #"{"slow_after_place_ms": 2000}"#, settings: ["REDIAL_TELEPHONY_TIMEOUT_MS": "500"])
    }

    @Test func anAttemptTheCarrierNeverClarifiesEndsUnknownAndIsNotDialedAgain() async throws {
        let cluster = try await Cluster()
        defer { cluster.stop() }
        // Every originate answered 503 (placed or not, nobody can tell), and the look-up by key
        // unavailable too: past the attempt's deadline (5 min) and the look-up window (10 min),
        // × 0.01, the attempt is recorded unknown.
        try await setFaults(cluster, #"{"error_rate": 1, "lookup_fails": true}"#)
        let (_, key) = try await site()
        let phone = number(0)
        let id = try await request(cluster, key: key, phone: phone)
        try await waitTerminal([id], timeout: .seconds(60))
        #expect(try await state(id) == Row(status: "failed", reason: "unknown", attempts: 1), "one attempt, never a blind second")
        #expect(try await ringsPerVisitor(cluster, visitors: [phone]).isEmpty)
        // The attempt was retried under its own key, not given up on the first unclear answer.
        let effect = try await database.query("SELECT state, result::text AS result FROM effects WHERE effect_key = $1",
                                               [CallbackFlow.dialKey(id, 1)])[0]
        #expect(try effect.decode("state", as: String.self) == "done")
        #expect(try effect.decode("result", as: String.self).contains("unknown after"))
        // The managers hear that it failed, as for any failure (once the gateway, the same
        // sandbox, takes SMS again: its error rate refused them too).
        try await setFaults(cluster, "{}")
        #expect(try await eventually(timeout: .seconds(30)) {
            try await cluster.messages().contains { ($0["text"] as? String ?? "").contains(phone) }
        })
    }

    @Test func aLongCallIsPolledWithoutSpendingThePollsAttempts() async throws {
        let cluster = try await Cluster()
        defer { cluster.stop() }
        // No webhook, and a call of 1000 s (10 s here): polled every 15 s × 0.01, some 60 polls,
        // more than the poll's 40 attempts. Each "still talking" is a snooze, not a failure.
        try await setFaults(cluster, #"{"drop_webhooks": true, "talk_s": 1000}"#)
        let (siteID, key) = try await site(balance: 100)
        let id = try await request(cluster, key: key, phone: number(0))
        try await waitTerminal([id], timeout: .seconds(60))
        #expect(try await state(id) == Row(status: "completed", reason: nil, attempts: 1))
        #expect(try await balance(siteID) == 100 - 17, "1000 s is 17 minutes, debited once")
        let redis = try await TestServices.redis(poolSize: 1)
        defer { Task { await redis.close() } }
        let keys = Keys(queue: "callbacks")
        let check = try await redis.send("GET", keys.dedup("callback.check:\(id):1")).string ?? ""
        let record = try await redis.send("HMGET", keys.job(check), "state", "attempt").array?.map(\.string) ?? []
        #expect(record == ["completed", "1"], "the poll that found the end ran as attempt 1: \(record)")
        #expect(try await redis.send("HGET", keys.stats, "snoozed").int ?? 0 > 0)
    }

    @Test func tenSitesAndOneVictimNumberGetAtMostSevenRings() async throws {
        let cluster = try await Cluster()
        defer { cluster.stop() }
        // An attacker with ten site keys (each with the shipped limits) asks for one victim's
        // number again and again, each time from another address: the number's limit counts
        // across sites, so the victim's phone rings at most 7 times in 15 minutes.
        var keys: [String] = []
        for _ in 0..<10 {
            var new = SiteStore.NewSite(name: TestServices.uniqueName("attacker"), managers: ["+79160000001"])
            new.balanceMinutes = 100
            keys.append(try await SiteStore(database: database, protection: .development).create(new).key)
        }
        let victim = number(0)
        // Clients of their own (a /64 each): the per-client limits count for a day, across runs.
        let run = String(UInt16.random(in: 1...UInt16.max), radix: 16)
        var accepted: [String] = []
        for round in 0..<3 {
            for (index, key) in keys.enumerated() {
                let response = try await client.send(HTTPClientRequest(method: "POST", url: cluster.api + "/v1/callbacks",
                    headers: [("X-Site-Key", key), ("Content-Type", "application/json"), ("Idempotency-Key", "r\(round)"),
                              ("X-Forwarded-For", "2001:db8:\(run):\(round * 10 + index + 1)::1")],
                    body: Array(#"{"phone": "\#(victim)"}"#.utf8)))
                if response.status == 202, let id = (try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])?["id"] as? String {
                    accepted.append(id)
                }
            }
            try await waitTerminal(accepted)  // each call ends, so the next request is a new callback
        }
        #expect(accepted.count == 7)
        #expect(try await ringsPerVisitor(cluster, visitors: [victim]) == [victim: 7], "rings on the victim's phone")
    }

    @Test func aScheduledCallbackIsNotDialedBeforeItsTimeEvenWhenItsJobIsLost() async throws {
        let cluster = try await Cluster()
        defer { cluster.stop() }
        let (_, key) = try await site()
        let phone = number(0)
        let callAt = ISO8601DateFormatter().string(from: Date().addingTimeInterval(10 * 86400))
        let response = try await client.send(HTTPClientRequest(method: "POST", url: cluster.api + "/v1/callbacks",
            headers: [("X-Site-Key", key), ("Content-Type", "application/json")],
            body: Array(#"{"phone": "\#(phone)", "call_at": "\#(callAt)"}"#.utf8)))
        #expect(response.status == 202, "\(response.text)")
        let id = (try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])?["id"] as? String ?? ""
        let redis = try await TestServices.redis()
        defer { Task { await redis.close() } }
        let keys = Keys(queue: "callbacks")
        // The first job waits in delayed; then it is lost, as a Redis that dropped its last writes would lose it.
        #expect(try await eventually(timeout: .seconds(10)) { try await redis.send("GET", keys.dedup("callback.dial:\(id)")).string != nil })
        let first = try await redis.send("GET", keys.dedup("callback.dial:\(id)")).string ?? ""
        #expect(try await redis.send("HGET", keys.job(first), "state").string == "delayed")
        #expect(try await redis.send("ZREM", keys.delayed, first).int == 1)
        #expect(try await redis.send("DEL", keys.job(first)).int == 1)
        // The reconciler notices; its job waits for the visitor's time too.
        #expect(try await eventually(timeout: .seconds(20)) {
            try await database.query("SELECT job_key FROM callbacks WHERE id = $1::uuid", [id])[0]
                .decodeIfPresent("job_key", as: String.self)?.contains(":reconciled:") == true
        })
        let reconciledKey: String = try await database.query("SELECT job_key FROM callbacks WHERE id = $1::uuid", [id])[0].decode("job_key")
        let reconciled = try await redis.send("GET", keys.dedup(reconciledKey)).string ?? ""
        #expect(try await redis.send("HGET", keys.job(reconciled), "state").string == "delayed")
        // A dial job that runs now anyway (a copy from anywhere) finds the time has not come.
        let stray = try await JobQueue(redis: redis).enqueue(.init(DialArgs(callbackID: try CallbackID(id), attempt: nil),
                                                                     policy: JobPolicy(queue: "callbacks")))
        #expect(try await eventually(timeout: .seconds(20)) {
            let record = try await redis.send("HMGET", keys.job(stray.id), "state", "attempt").array?.map(\.string) ?? []
            return record.first == "retry" && record.last == "0"  // ran, and snoozed without spending an attempt
        })
        #expect(try await state(id) == Row(status: "scheduled", reason: nil, attempts: 0))
        #expect(try await ringsPerVisitor(cluster, visitors: [phone]).isEmpty, "rung before the visitor's time")
    }

    @Test func wildNumbersFromTheCarrierOrAJobDoNotCrashAWorker() async throws {
        // Slower clock, no webhooks: the test's own webhook reaches the attempt before the poll does.
        let cluster = try await Cluster(timeScale: "0.1")
        defer { cluster.stop() }
        try await setFaults(cluster, #"{"drop_webhooks": true}"#)
        let (siteID, key) = try await site(balance: 100)
        let id = try await request(cluster, key: key, phone: number(0))
        #expect(try await eventually(timeout: .seconds(20)) {
            try await database.query("SELECT provider_call_id FROM attempts WHERE callback_id = $1::uuid", [id]).first?
                .decodeIfPresent("provider_call_id", as: String.self) != nil
        })
        let callID: String = try await database.query("SELECT provider_call_id FROM attempts WHERE callback_id = $1::uuid", [id])[0]
            .decode("provider_call_id")
        let event = #"{"event_id": "evt-wild-\#(callID)", "call_id": "\#(callID)", "status": "completed", "outcome": "answered", "duration_s": 9223372036854775000}"#
        #expect(try await post(cluster, signed(event)) == 200)
        try await waitTerminal([id])
        #expect(try await state(id) == Row(status: "completed", reason: nil, attempts: 1))
        // A day at most is believed, and the balance stops at zero.
        #expect(try await balance(siteID) == 0)
        #expect(try await database.query("SELECT minutes_debited FROM callbacks WHERE id = $1::uuid", [id])[0]
            .decode("minutes_debited", as: Int.self) == 1440)
        // A job naming no callback a UUID could be goes dead on its first run, with the reason.
        let redis = try await TestServices.redis()
        defer { Task { await redis.close() } }
        let bad = try await JobQueue(redis: redis).enqueue(.init(type: "callback.dial", payload: #"{"callback_id": "42 OR 1=1"}"#,
                                                                   policy: JobPolicy(queue: "callbacks", maxAttempts: 10)))
        let keys = Keys(queue: "callbacks")
        #expect(try await eventually(timeout: .seconds(20)) { try await redis.send("HGET", keys.job(bad.id), "state").string == "dead" })
        #expect(try await redis.send("HGET", keys.job(bad.id), "attempt").string == "1")
        #expect(try await redis.send("HGET", keys.job(bad.id), "last_error").string?.contains("not a UUID") == true)
        #expect(cluster.workers.allSatisfy { $0.isRunning }, "a worker died")
    }

    @Test func aStaleDialJobStartsNoAttemptEarly() async throws {
        // Slower clock: the redial after a busy attempt waits 60-120 s × 0.1, time to act in between.
        let cluster = try await Cluster(timeScale: "0.1")
        defer { cluster.stop() }
        let (_, key) = try await site()
        let phone = number(1)  // busy on every attempt
        let id = try await request(cluster, key: key, phone: phone)
        #expect(try await eventually(timeout: .seconds(30)) { try await state(id).status == "retry_wait" })
        #expect(try await state(id).attempts == 1)
        // The next attempt's dial job is in the outbox with the decision, under its own key, numbered.
        let redis = try await TestServices.redis(poolSize: 1)
        defer { Task { await redis.close() } }
        let next = try await waitForJob(queue: "callbacks", dedupKey: "callback.dial:\(id):2", states: ["delayed"])
        #expect(next == "delayed")
        // Copies made for other attempts (an old redial, a stray) run now and do nothing.
        var strays: [String] = []
        for attempt in [1, 3] {
            strays.append(try await JobQueue(redis: redis).enqueue(.init(
                DialArgs(callbackID: try CallbackID(id), attempt: attempt), policy: JobPolicy(queue: "callbacks"))).id)
        }
        for stray in strays { try await waitForJob(queue: "callbacks", id: stray) }
        #expect(try await state(id) == Row(status: "retry_wait", reason: "busy", attempts: 1))
        #expect(try await ringsPerVisitor(cluster, visitors: [phone]) == [phone: 1])
    }
}
