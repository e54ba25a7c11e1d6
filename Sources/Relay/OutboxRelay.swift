import Foundation
import Logging
import PostgresClient
import Queue
import ServiceLifecycle

/// Moves outbox rows into the queue. An accepted callback is in PostgreSQL with its outbox row
/// before the API answers 202; this relay makes the job. Crash windows: rows are locked
/// (`FOR UPDATE SKIP LOCKED`, so several relays share the work), enqueued, then marked relayed
/// in the same transaction. Dying after the enqueue but before the commit enqueues again on the
/// next pass, and the job's dedup key (the row's, else `<type>:<callback id>`) turns that into the same job.
/// Redis down: the transaction rolls back and the rows wait for the next pass.
///
/// A pass runs as soon as a transaction that wrote outbox rows commits: their trigger notifies
/// `redial_outbox` (migration 0018) and the relay LISTENs on a connection of its own. Polling
/// every `interval` stays as the fallback, for a lost listening connection or a notification
/// missed while it reconnected.
public final class OutboxRelay: Service, Sendable {
    private let database: PostgresPool
    private let jobs: JobQueue
    private let policies: [String: JobPolicy]
    /// The job types above as a JSON array, the parameter every pass filters rows by.
    private let knownTypes: String
    private let logger: Logger
    private let interval: Duration

    /// The channel the outbox trigger notifies.
    public static let channel = "redial_outbox"

    /// - Parameter policies: job policy by type (from the catalog), for the job types the outbox holds.
    /// - Parameter interval: the fallback poll's; a notification wakes the relay at once.
    public init(database: PostgresPool, jobs: JobQueue, policies: [String: JobPolicy], logger: Logger,
                interval: Duration = .seconds(1)) {
        self.database = database
        self.jobs = jobs
        self.policies = policies
        knownTypes = String(decoding: (try? JSONSerialization.data(withJSONObject: policies.keys.sorted())) ?? Data("[]".utf8), as: UTF8.self)
        self.logger = logger
        self.interval = interval
    }

    public func run() async throws {
        // Cancelled on graceful shutdown: a pass in flight rolls back and its rows wait.
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask { await self.loop() }
                group.addTask { await self.wakeUps() }
            }
        }
    }

    /// Passes on every notification, until one finds nothing (a pass takes up to 500 rows). Two
    /// passes at once (this and the poll) share the rows: each skips what the other locked.
    private func wakeUps() async {
        await NotificationListener(configuration: database.configuration, channel: Self.channel).run { event in
            switch event {
            case .listening(let failures):
                if failures > 0 { logger.info("outbox relay: listening for new rows again") }
            case .notified:
                // A failing pass is the poll's to report and retry.
                while (try? await relayOnce()) ?? 0 > 0 && !Task.isCancelled {}
            case .lost(let error, let failures):
                if failures == 1 { logger.warning("outbox relay: not listening for new rows (\(error)); polling every \(interval) meanwhile") }
            }
        }
    }

    private func loop() async {
        var failures = 0
        var idle = 0
        while !Task.isCancelled {
            do {
                let moved = try await relayOnce()
                failures = 0
                if moved == 0 {
                    idle += 1
                    if idle % 600 == 1, case let unknown = try await unknownTypes(), !unknown.isEmpty {
                        logger.error("outbox relay: rows of job types this build does not know wait for a newer relay: \(unknown)")
                    }
                    try? await Task.sleep(for: interval)
                }
            } catch {
                failures += 1
                if failures == 1 || failures % 50 == 0 { logger.warning("outbox relay: \(error); will retry") }
                try? await Task.sleep(for: min(interval * (1 << min(failures, 5)), .seconds(2)))
            }
        }
    }

    /// Rows of job types this build's catalog does not declare (written by a newer build during
    /// a rolling deploy): left for a relay that knows them, never blocking the others.
    public func unknownTypes() async throws -> [String: Int] {
        let rows = try await database.query("""
            SELECT job_type, count(*)::int AS n FROM outbox
            WHERE relayed_at IS NULL AND NOT job_type = ANY(ARRAY(SELECT jsonb_array_elements_text($1::jsonb))) GROUP BY job_type
            """, [knownTypes])
        return Dictionary(uniqueKeysWithValues: try rows.map { (try $0.decode("job_type", as: String.self), try $0.decode("n", as: Int.self)) })
    }

    /// A pass's rows: up to 500 not yet relayed, of the job types in $1 (a JSON array), locked.
    public static let passSQL = """
        SELECT o.id, o.callback_id::text AS callback_id, o.job_type, o.payload::text AS payload, o.dedup_key,
               extract(epoch FROM o.run_at - now())::float8 AS delay, c.channel
        FROM outbox o JOIN callbacks c ON c.id = o.callback_id
        WHERE o.relayed_at IS NULL AND o.job_type = ANY(ARRAY(SELECT jsonb_array_elements_text($1::jsonb)))
        ORDER BY o.id LIMIT 500 FOR UPDATE OF o SKIP LOCKED
        """

    /// One pass of up to 500 rows of known job types; returns how many were relayed.
    @discardableResult
    public func relayOnce() async throws -> Int {
        try await database.transaction { connection in
            let rows = try await connection.query(Self.passSQL, [knownTypes])
            guard !rows.isEmpty else { return 0 }
            var requests: [JobQueue.Request] = []
            var ids: [Int64] = []
            for row in rows {
                let type: String = try row.decode("job_type")
                guard let policy = policies[type] else { continue }  // selected by known type above
                let delay = max(0, try row.decodeIfPresent("delay", as: Double.self) ?? 0)
                requests.append(JobQueue.Request(
                    type: type, payload: try row.decode("payload"), policy: policy,
                    delay: .milliseconds(Int64(delay * 1000)),
                    dedupKey: try row.decodeIfPresent("dedup_key") ?? "\(type):\(try row.decode("callback_id", as: String.self))")
                    .routed(to: WorkerRelease.Channel(rawValue: try row.decode("channel")) ?? .production))
                ids.append(try row.decode("id"))
            }
            _ = try await jobs.enqueue(batch: requests)
            try await connection.query("UPDATE outbox SET relayed_at = now() WHERE id = ANY(ARRAY(SELECT jsonb_array_elements_text($1::jsonb)::bigint))",
                                       [try JSONText.encode(ids)])
            return rows.count
        }
    }
}
