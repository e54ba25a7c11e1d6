import Foundation
import Logging
import Metrics
import PostgresClient
import Queue
import Domain
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
                let started = ContinuousClock.now
                let count = try await pass()
                if count > 0 { logger.warning("reconciler: re-enqueued \(count) callbacks that had no live job") }
                let took = ContinuousClock.now - started
                if took > staleAfter { logger.warning("reconciler: a pass took \(took) (it looks again every \(interval))") }
                // For the watchdog: a relay that is gone or stuck stops renewing this.
                try await database.query("""
                    INSERT INTO service_passes (service, passed_at) VALUES ('reconciler', now())
                    ON CONFLICT (service) DO UPDATE SET passed_at = now()
                    """)
            } catch {
                logger.warning("reconciler pass failed: \(error)")
            }
            try? await Task.sleep(for: interval)
        }
    }

    /// Active callbacks that have not moved for $1 seconds and wait for no outbox row.
    public static let staleSQL = """
        SELECT id::text AS id, job_key, channel, extract(epoch FROM updated_at)::bigint AS updated,
               extract(epoch FROM GREATEST(call_at, (SELECT max(run_at) FROM outbox o WHERE o.callback_id = c.id)) - now())::float8 AS wait
        FROM callbacks c
        WHERE status IN ('queued', 'scheduled', 'dialing', 'retry_wait')
          AND updated_at < now() - make_interval(secs => $1)
          AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.callback_id = c.id AND o.relayed_at IS NULL)
        ORDER BY updated_at LIMIT 500
        """

    /// One pass; returns how many callbacks got a new job.
    @discardableResult
    public func pass() async throws -> Int {
        let rows = try await database.query(Self.staleSQL, [Double(staleAfter.components.seconds)])
        var count = 0
        for row in rows {
            let id: String = try row.decode("id")
            let key = try row.decodeIfPresent("job_key", as: String.self) ?? DialArgs.dedupKey(id, attempt: 1)
            let channel = WorkerRelease.Channel(rawValue: try row.decode("channel")) ?? .production
            if let policy = policies[String(key.prefix { $0 != ":" })], try await jobs.isLive(dedupKey: key, queue: channel.queue(policy.queue)) {
                continue
            }
            // No attempt number: the job resumes whatever is due, and `dial` waits for the
            // callback's requested time and the site's hours like any other dial. It runs no
            // earlier than the last decision asked (a redial's delay) or the visitor's time.
            let newKey = DialArgs.reconciledKey(id, updated: try row.decode("updated", as: Int64.self))
            let wait = max(0, try row.decodeIfPresent("wait", as: Double.self) ?? 0)
            _ = try await jobs.enqueue(.init(DialArgs(callbackID: try CallbackID(id), attempt: nil), policies: policies,
                                             delay: .milliseconds(Int64(wait * 1000)), dedupKey: newKey).routed(to: channel))
            // Compare and set: a flow decision that named a newer job meanwhile keeps its name.
            try await database.query("""
                UPDATE callbacks SET job_key = $2, updated_at = now() WHERE id = $1::uuid AND job_key IS NOT DISTINCT FROM $3
                """, [id, newKey, try row.decodeIfPresent("job_key", as: String.self)])
            reconciled.increment()
            count += 1
        }
        return count
    }
}
