import Foundation
import Logging
import Metrics
import PostgresClient
import Queue
import RedisClient
import ServiceLifecycle

/// PostgreSQL is the truth. A callback that is not terminal, has not moved for a while, and has
/// no live job in Redis (Redis lost its last writes, a job was deleted or went dead by hand) is
/// given a new `callback.dial` job. Safe on many processes: the new job's dedup key is derived
/// from the stale state, so two reconcilers that see the same callback enqueue one job.
public final class Reconciler: Service, Sendable {
    private let database: PostgresPool
    private let jobs: JobQueue
    private let policies: [String: JobPolicy]
    private let logger: Logger
    private let interval: Duration
    private let staleAfter: Duration
    private let reconciled = Counter(label: "redial_callbacks_reconciled_total")

    public init(database: PostgresPool, jobs: JobQueue, policies: [String: JobPolicy], logger: Logger,
                interval: Duration = .seconds(30), staleAfter: Duration = .seconds(120)) {
        self.database = database
        self.jobs = jobs
        self.policies = policies
        self.logger = logger
        self.interval = interval
        self.staleAfter = staleAfter
    }

    public func run() async throws {
        // Cancelled on graceful shutdown, so a stop does not wait out the interval's sleep.
        await cancelWhenGracefulShutdown { await self.loop() }
    }

    private func loop() async {
        while !Task.isCancelled {
            do {
                let count = try await pass()
                if count > 0 { logger.warning("reconciler: re-enqueued \(count) callbacks that had no live job") }
            } catch {
                logger.warning("reconciler pass failed: \(error)")
            }
            try? await Task.sleep(for: interval)
        }
    }

    /// One pass; returns how many callbacks got a new job.
    @discardableResult
    public func pass() async throws -> Int {
        let rows = try await database.query("""
            SELECT id::text AS id, job_key, extract(epoch FROM updated_at)::bigint AS updated
            FROM callbacks c
            WHERE status IN ('queued', 'scheduled', 'dialing', 'retry_wait')
              AND updated_at < now() - make_interval(secs => $1)
              AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.callback_id = c.id AND o.relayed_at IS NULL)
            ORDER BY updated_at LIMIT 500
            """, [Double(staleAfter.components.seconds)])
        var count = 0
        for row in rows {
            let id: String = try row.decode("id")
            let key = try row.decodeIfPresent("job_key", as: String.self) ?? "callback.dial:\(id)"
            if try await isLive(key) { continue }
            guard let policy = policies["callback.dial"] else { throw DomainError(.invalid, "the catalog has no callback.dial policy") }
            let newKey = "callback.dial:\(id):reconciled:\(try row.decode("updated", as: Int64.self))"
            _ = try await jobs.enqueue(.init(type: "callback.dial", payload: #"{"callback_id":"\#(id)"}"#, policy: policy, dedupKey: newKey))
            try await database.query("UPDATE callbacks SET job_key = $2, updated_at = now() WHERE id = $1::uuid", [id, newKey])
            reconciled.increment()
            count += 1
        }
        return count
    }

    /// Whether the job enqueued under this dedup key still exists and can still run.
    func isLive(_ dedupKey: String) async throws -> Bool {
        let type = String(dedupKey.prefix { $0 != ":" })
        guard let policy = policies[type] else { return false }
        let keys = Keys(queue: policy.queue)
        guard let id = try await jobs.redis.send("GET", keys.dedup(dedupKey)).string else { return false }
        let state = try await jobs.redis.send("HGET", keys.job(id), "state").string
        return ["ready", "delayed", "active", "retry"].contains(state ?? "")
    }
}
