import Metrics
import Queue
import PostgresClient

/// The callback SLA, from PostgreSQL's truth: accepted callbacks not dialed `maxAge` after
/// acceptance, scheduled ones past their time by as much, and the age of the outbox's oldest
/// row not yet relayed (a stalled relay strands every new callback there).
struct CallbacksProbe: Probe {
    let database: PostgresPool
    let maxAge: Duration

    func check(timeout: Duration) async -> ProbeResult {
        do {
            let rows = try await database.query("""
                SELECT (SELECT count(*) FROM callbacks c WHERE c.status = 'queued' AND c.created_at < now() - make_interval(secs => $1)
                          AND (c.call_at IS NULL OR c.call_at < now() - make_interval(secs => $1))
                          AND NOT EXISTS (SELECT 1 FROM attempts a WHERE a.callback_id = c.id))::int AS not_dialed,
                       (SELECT count(*) FROM callbacks WHERE status = 'scheduled' AND call_at < now() - make_interval(secs => $1))::int AS overdue,
                       coalesce((SELECT extract(epoch FROM now() - min(greatest(created_at, coalesce(run_at, created_at)))) FROM outbox
                                 WHERE relayed_at IS NULL AND coalesce(run_at, created_at) <= now()), 0)::float8 AS outbox_age
                """, [maxAge.seconds])
            guard let row = rows.first else { return .failure("no answer") }
            let notDialed: Int = try row.decode("not_dialed")
            let overdue: Int = try row.decode("overdue")
            let outboxAge: Double = try row.decode("outbox_age")
            Gauge(label: "redial_callbacks_late", dimensions: [("kind", "not_dialed")]).record(notDialed)
            Gauge(label: "redial_callbacks_late", dimensions: [("kind", "scheduled_overdue")]).record(overdue)
            Gauge(label: "redial_outbox_oldest_seconds").record(outboxAge)
            return .success("\(notDialed) not dialed, \(overdue) overdue, outbox \(Int(outboxAge)) s")
        } catch {
            return .failure("\(error)")
        }
    }
}
