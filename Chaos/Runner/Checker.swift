import CryptoPrimitives
import Domain
import Foundation
import HTTPClient
import LocalServices
import PostgresClient
import Providers
import Queue
import RedisClient

/// Verifies the invariants after the cluster settled, from the three sources of truth:
/// PostgreSQL (callbacks, attempts, effects, balance), Redis (jobs held by dead workers, dead jobs) and the
/// sandbox's own log of every ring it made.
struct Checker: Sendable {
    let database: PostgresPool
    let redis: RedisPool
    let sandboxURL: String
    let sites: ChaosSites
    let storage: any ObjectStorage
    /// Replicas each enqueue waited for (`REDIAL_REDIS_WAIT`): with one or more, an acknowledged
    /// enqueue lost in a failover is a violation; without, it is what asynchronous replication costs.
    var waitReplicas = 0

    struct Verdict: Encodable {
        var accepted = 0
        /// Accepted by the site closed for the whole run: they must wait, never ring.
        var acceptedClosed = 0
        var closedNotWaiting = 0
        var terminal = 0
        var lost = 0
        var completed = 0
        var failed = 0
        var rings = 0
        var attemptsRungTwice = 0
        var sms = 0
        var smsSentTwice = 0
        var debits = 0
        var minutesDebited = 0
        var balanceDrift = 0
        var answeredCalls = 0
        var answeredNotDebited = 0
        var failedWithoutMessage = 0
        var recordingsStored = 0
        var completedWithoutOneRecording = 0
        var jobsHeldByDeadWorkers = 0
        var deadJobsWithoutReason = 0
        /// Jobs waiting (ready, scheduled, or in a move) on a queue no live worker serves: a
        /// release channel left with work and nobody to do it.
        var jobsWaitingWithoutWorkers = 0
        /// Noop jobs (Sentinel profiles): acknowledged enqueues, those the final master does not
        /// hold (lost in a failover), those it holds but that never completed, and enqueues that
        /// were not acknowledged (Redis failing over, WAIT short of its replicas).
        var noopAcknowledged = 0
        var noopLost = 0
        var noopNotCompleted = 0
        var noopNotAcknowledged = 0
        /// Accepted callbacks whose dial job the reconciler made again (the one in Redis was gone).
        var restoredByReconciler: [String] = []
        /// Components not running at the end (they exited by themselves), with exit status and log.
        var componentsDown: [String] = []
        var settledAfterSeconds: Double?
        var recoverySeconds: [String: Double] = [:]
        /// Every alert that fired during the run, with the fault it is put down to.
        var alerts: [AlertWatch.Span] = []
        var violations: [String] = []
    }

    static func openCount(_ database: PostgresPool, ids: [String]) async throws -> Int {
        guard !ids.isEmpty else { return 0 }
        return try await database.query("""
            SELECT count(*)::int AS n FROM callbacks WHERE id = ANY(ARRAY(SELECT jsonb_array_elements_text($1::jsonb))::uuid[])
              AND status NOT IN ('completed', 'failed', 'canceled')
            """, [String(decoding: try JSONSerialization.data(withJSONObject: ids), as: UTF8.self)])[0].decode("n")
    }

    func check(accepted: [String], acceptedClosed: [String], settledAfter: Double?, record: RunRecord) async throws -> Verdict {
        var verdict = Verdict()
        verdict.accepted = accepted.count
        verdict.acceptedClosed = acceptedClosed.count
        if accepted.isEmpty { verdict.violations.append("no callback was accepted: the run proves nothing") }
        if acceptedClosed.isEmpty { verdict.violations.append("no callback was accepted by the closed site: its check read nothing") }
        verdict.settledAfterSeconds = settledAfter
        verdict.lost = try await Self.openCount(database, ids: accepted)
        verdict.terminal = accepted.count - verdict.lost
        if verdict.lost > 0 { verdict.violations.append("\(verdict.lost) accepted callbacks never reached a terminal status") }

        let open = "ARRAY(SELECT jsonb_array_elements_text($1::jsonb))::uuid[]"
        let counts = try await database.query("""
            SELECT count(*) FILTER (WHERE status = 'completed')::int AS completed, count(*) FILTER (WHERE status = 'failed')::int AS failed,
                   coalesce(sum(minutes_debited), 0)::int AS minutes,
                   (SELECT count(*)::int FROM effects e JOIN callbacks c2 ON e.effect_key = 'debit:' || c2.id::text
                    WHERE c2.site_id = ANY(\(open))) AS debits,
                   (SELECT sum($2 - balance_minutes)::int FROM sites WHERE id = ANY(\(open))) AS spent
            FROM callbacks WHERE site_id = ANY(\(open))
            """, [sites.openIDsJSON, ChaosSites.balance])[0]
        verdict.completed = try counts.decode("completed")
        verdict.failed = try counts.decode("failed")
        verdict.minutesDebited = try counts.decode("minutes")
        verdict.debits = try counts.decode("debits")
        verdict.balanceDrift = try counts.decode("spent", as: Int.self) - verdict.minutesDebited
        if verdict.debits != verdict.completed {
            verdict.violations.append("\(verdict.debits) debits for \(verdict.completed) completed calls")
        }
        if verdict.balanceDrift != 0 {
            verdict.violations.append("the balance moved \(verdict.balanceDrift) minutes more than the completed calls account for")
        }

        let response = try await HTTPClient().send(HTTPClientRequest(url: sandboxURL + "/sandbox/calls", timeout: .seconds(30)))
        let rings = (try JSONSerialization.jsonObject(with: Data(response.body)) as? [[String: Any]]) ?? []
        verdict.rings = rings.count
        // Two views, so that a build which dials with a fresh idempotency key each time is caught
        // too: rings per idempotency key, and rings per visitor against the attempts that rang.
        var perKey: [String: Int] = [:]
        var perVisitor: [String: Int] = [:]
        for ring in rings {
            perKey[ring["idempotency_key"] as? String ?? "", default: 0] += 1
            perVisitor[ring["visitor"] as? String ?? "", default: 0] += 1
        }
        // Numbers are sealed (each callback's under its own nonce): a visitor is its lookup hash,
        // and any one of its callbacks' numbers, opened, names it.
        var ringingAttempts: [String: Int] = [:]
        for row in try await database.query("""
            SELECT min(c.phone) AS phone, count(*)::int AS n FROM attempts a JOIN callbacks c ON c.id = a.callback_id
            WHERE c.site_id = ANY(\(open)) AND a.provider_call_id IS NOT NULL GROUP BY c.phone_lookup
            """, [sites.openIDsJSON]) {
            ringingAttempts[try phone(row)] = try row.decode("n")
        }
        // The closed site: every callback waits for the opening, and none of its visitors rang.
        let closedRows = try await database.query("""
            SELECT phone, status FROM callbacks WHERE site_id = $1::uuid
            """, [sites.closedID])
        let closedPhones = Set(try closedRows.map(phone))
        verdict.closedNotWaiting = try closedRows.filter { try $0.decode("status", as: String.self) != "scheduled" }.count
            + closedPhones.reduce(0) { $0 + (perVisitor[$1] ?? 0) }
        if verdict.closedNotWaiting > 0 {
            verdict.violations.append("\(verdict.closedNotWaiting) callbacks of the closed site not waiting for its hours, or rung")
        }
        let sameKey = perKey.values.reduce(0) { $0 + max(0, $1 - 1) }
        let extra = perVisitor.reduce(0) { $0 + max(0, $1.value - (ringingAttempts[$1.key] ?? 0)) }
        verdict.attemptsRungTwice = max(sameKey, extra)
        if verdict.attemptsRungTwice > 0 {
            // Examples, for whoever reads the report: keys rung more than once, visitors rung
            // more often than their attempts that reached the carrier.
            let keys = perKey.filter { $0.value > 1 }.sorted { $0.value > $1.value }.prefix(3).map { "key \($0.key): \($0.value) rings" }
            let visitors = perVisitor.filter { $0.value > (ringingAttempts[$0.key] ?? 0) }.sorted { $0.value > $1.value }.prefix(3)
                .map { "\($0.key): \($0.value) rings, \(ringingAttempts[$0.key] ?? 0) attempts" }
            verdict.violations.append("\(verdict.attemptsRungTwice) attempts rang a visitor more than once (\((keys + visitors).joined(separator: "; ")))")
        }

        // Every call the carrier says was answered belongs to an attempt of ours and is debited
        // once: a call placed under an answer we found unclear and then placed again would be
        // answered, never linked, and never paid for.
        let answered = rings.filter { $0["outcome"] as? String == "answered" }.compactMap { $0["call_id"] as? String }
        verdict.answeredCalls = answered.count
        if !answered.isEmpty {
            verdict.answeredNotDebited = try await database.query("""
                SELECT count(*)::int AS n FROM unnest(ARRAY(SELECT jsonb_array_elements_text($1::jsonb))) AS call(id)
                WHERE NOT EXISTS (SELECT 1 FROM attempts a JOIN effects e ON e.effect_key = 'debit:' || a.callback_id::text
                                  WHERE a.provider_call_id = call.id)
                """, [String(decoding: try JSONSerialization.data(withJSONObject: answered), as: UTF8.self)])[0].decode("n")
        }
        if answered.isEmpty && verdict.completed > 0 {
            verdict.violations.append("the sandbox reports no answered call for \(verdict.completed) completed callbacks: the check read nothing")
        }
        if verdict.answeredNotDebited > 0 {
            verdict.violations.append("\(verdict.answeredNotDebited) answered calls not linked to a debited callback")
        }

        // No SMS twice for one trigger: one message per recipient and text (the text names the visitor).
        let smsResponse = try await HTTPClient().send(HTTPClientRequest(url: sandboxURL + "/sandbox/sms", timeout: .seconds(30)))
        let messages = (try JSONSerialization.jsonObject(with: Data(smsResponse.body)) as? [[String: Any]]) ?? []
        verdict.sms = messages.count
        var perTrigger: [String: Int] = [:]
        for message in messages { perTrigger["\(message["to"] ?? "")|\(message["text"] ?? "")", default: 0] += 1 }
        verdict.smsSentTwice = perTrigger.values.reduce(0) { $0 + max(0, $1 - 1) }
        if verdict.smsSentTwice > 0 { verdict.violations.append("\(verdict.smsSentTwice) SMS sent twice for one trigger") }

        // Every queue the run used, not only the callbacks' (the engine's own key layout, not a copy).
        let queues = try await JobQueue(redis: redis).queues()
        if queues.isEmpty { verdict.violations.append("no queue in Redis: the checker read nothing") }
        for queue in queues {
            let keys = Keys(queue: queue)
            let workers = try await redis.send("ZRANGE", keys.workers, 0, -1).array?.compactMap(\.string) ?? []
            var deadWorkers: [String] = []
            for worker in workers where try await redis.send("EXISTS", keys.alive(worker)).int == 0 { deadWorkers.append(worker) }
            verdict.jobsHeldByDeadWorkers += try await redis.jobsHeld(by: deadWorkers, in: keys)
            if deadWorkers.count == workers.count {
                let waiting = try await redis.pipeline([.make("LLEN", keys.ready), .make("ZCARD", keys.delayed), .make("LLEN", keys.moving)])
                verdict.jobsWaitingWithoutWorkers += try waiting.reduce(0) { $0 + (try $1.get().int ?? 0) }
            }
            let dead = try await redis.send("ZRANGE", keys.dead, 0, -1).array?.compactMap(\.string) ?? []
            for id in dead where (try await redis.send("HGET", keys.job(id), "last_error").string ?? "").isEmpty {
                verdict.deadJobsWithoutReason += 1
            }
        }
        if verdict.jobsHeldByDeadWorkers > 0 {
            verdict.violations.append("\(verdict.jobsHeldByDeadWorkers) jobs still held by dead workers")
        }
        if verdict.jobsWaitingWithoutWorkers > 0 {
            verdict.violations.append("\(verdict.jobsWaitingWithoutWorkers) jobs wait on queues no live worker serves")
        }
        if verdict.deadJobsWithoutReason > 0 { verdict.violations.append("\(verdict.deadJobsWithoutReason) dead jobs without a reason") }

        // Every failed callback (but for want of balance, which the owner hears about instead)
        // told the managers, naming the visitor. Messages go through the outbox after the
        // decision, so they may trail the callbacks' end by a few seconds: waited for, bounded.
        let failedPhones = try await database.query("""
            SELECT phone FROM callbacks WHERE site_id = ANY(\(open)) AND status = 'failed' AND reason IS DISTINCT FROM 'no_balance'
            """, [sites.openIDsJSON]).map(phone)
        _ = try await eventually(timeout: .seconds(60), every: .seconds(1)) {
            let texts = try await smsTexts()
            verdict.failedWithoutMessage = failedPhones.filter { phone in !texts.contains { $0.contains(phone) } }.count
            return verdict.failedWithoutMessage == 0
        }
        if verdict.failedWithoutMessage > 0 {
            verdict.violations.append("\(verdict.failedWithoutMessage) failed callbacks whose managers were never told")
        }

        // Every completed call (each answered call has a recording) has exactly one stored copy,
        // and the object is in the bucket with the size recorded. Uploads trail the callbacks'
        // end: waited for, bounded.
        _ = try await eventually(timeout: .seconds(90), every: .seconds(1)) {
            verdict.completedWithoutOneRecording = try await database.query("""
                SELECT count(*)::int AS n FROM callbacks c
                WHERE c.site_id = ANY(\(open)) AND c.status = 'completed'
                  AND (SELECT count(*) FROM recordings r WHERE r.callback_id = c.id AND r.deleted_at IS NULL) <> 1
                """, [sites.openIDsJSON])[0].decode("n")
            return verdict.completedWithoutOneRecording == 0
        }
        let stored: [(key: String, size: Int)] = try await database.query("""
            SELECT r.object_key, r.size_bytes::int AS size FROM recordings r JOIN callbacks c ON c.id = r.callback_id
            WHERE c.site_id = ANY(\(open)) AND r.deleted_at IS NULL
            """, [sites.openIDsJSON]).map { (try $0.decode("object_key", as: String.self), try $0.decode("size", as: Int.self)) }
        var missing = 0
        var examples: [String] = []
        for object in stored {
            let found = try await storage.head(object.key)?.size
            guard found != object.size else { continue }
            missing += 1
            if examples.count < 3 { examples.append("\(object.key): \(found.map { "\($0) bytes" } ?? "absent"), recorded \(object.size)") }
        }
        verdict.recordingsStored = stored.count - missing
        if verdict.completedWithoutOneRecording > 0 {
            verdict.violations.append("\(verdict.completedWithoutOneRecording) completed calls without exactly one stored recording")
        }
        if missing > 0 {
            verdict.violations.append("\(missing) recordings recorded but not in the bucket at their size (\(examples.joined(separator: "; ")))")
        }
        if verdict.completed > 0 && stored.isEmpty { verdict.violations.append("no recording stored: the check read nothing") }

        try await checkNoopJobs(record, &verdict)
        try await nameRestoredCallbacks(record, &verdict)
        verdict.recoverySeconds = Self.recovery(record)
        return verdict
    }

    /// The callbacks whose dial job the reconciler made again (their job in Redis was gone, or
    /// looked gone), from the completed dial jobs' keys.
    private func nameRestoredCallbacks(_ record: RunRecord, _ verdict: inout Verdict) async throws {
        // The reconciler's jobs carry keys of their own (`callback.dial:<id>:reconciled:<at>`).
        let completed = try await redis.send("LRANGE", Keys(queue: "callbacks").completed, 0, -1).array?.compactMap(\.string) ?? []
        let ids = completed.compactMap { $0.split(separator: ":", maxSplits: 1).last.map(String.init) }
        var restored = Set<String>()
        for chunk in stride(from: 0, to: ids.count, by: 500).map({ Array(ids[$0..<min($0 + 500, ids.count)]) }) {
            for reply in try await redis.pipeline(chunk.map { .make("HGET", Keys(queue: "callbacks").job($0), "dedup_key") }) {
                guard let key = try reply.get().string, key.contains(":reconciled:") else { continue }
                restored.insert(String(key.split(separator: ":")[1]))
            }
        }
        verdict.restoredByReconciler = restored.intersection(record.acceptedIDs + record.acceptedClosedIDs).sorted()
    }

    /// Every acknowledged noop job is on the final master and completed (waited for, bounded).
    private func checkNoopJobs(_ record: RunRecord, _ verdict: inout Verdict) async throws {
        let acknowledged = record.noopIDs
        verdict.noopNotAcknowledged = record.noopRefused
        if acknowledged.isEmpty && record.noopRefused == 0 { return }
        verdict.noopAcknowledged = acknowledged.count
        if acknowledged.isEmpty { verdict.violations.append("no noop enqueue was acknowledged: the check read nothing") }
        let keys = Keys(queue: "default")
        _ = try await eventually(timeout: .seconds(60), every: .seconds(1)) {
            var lost = 0, notCompleted = 0
            for chunk in stride(from: 0, to: acknowledged.count, by: 500).map({ Array(acknowledged[$0..<min($0 + 500, acknowledged.count)]) }) {
                let states = try await redis.pipeline(chunk.map { .make("HGET", keys.job($0), "state") })
                for state in states {
                    switch try state.get().string {
                    case nil: lost += 1
                    case "completed": break
                    default: notCompleted += 1
                    }
                }
            }
            (verdict.noopLost, verdict.noopNotCompleted) = (lost, notCompleted)
            return notCompleted == 0
        }
        if verdict.noopNotCompleted > 0 { verdict.violations.append("\(verdict.noopNotCompleted) acknowledged noop jobs never completed") }
        if verdict.noopLost > 0 && waitReplicas > 0 {
            verdict.violations.append("\(verdict.noopLost) noop enqueues acknowledged after WAIT \(waitReplicas) are not on the final master")
        }
    }

    /// A row's visitor number, opened (the suite's processes run with the development keys).
    private func phone(_ row: PostgresRow) throws -> String {
        try DataProtection.development.open(try row.decode("phone"), .callbackPhone)
    }

    private func smsTexts() async throws -> [String] {
        let response = try await HTTPClient().send(HTTPClientRequest(url: sandboxURL + "/sandbox/sms", timeout: .seconds(30)))
        return ((try JSONSerialization.jsonObject(with: Data(response.body)) as? [[String: Any]]) ?? []).compactMap { $0["text"] as? String }
    }

    /// Per fault kind, the longest time from a fault's end until callbacks completed again.
    static func recovery(_ record: RunRecord) -> [String: Double] {
        let samples = record.samples
        var worst: [String: Double] = [:]
        for fault in record.faults {
            guard let before = samples.last(where: { $0.t <= fault.end }) else { continue }
            guard let progress = samples.first(where: { $0.t > fault.end && $0.terminal > before.terminal }) else { continue }
            // "sandbox error storm 6 s" and "sandbox error storm 15 s" are one kind.
            let kind = fault.name.replacing(/\s\d+ s$/, with: "")
            worst[kind] = max(worst[kind] ?? 0, progress.t - fault.end)
        }
        return worst
    }
}
