import Metrics
import Queue
import PostgresClient

/// The reconciler's last finished pass (`service_passes`, written by every `redial relay`): a
/// relay that is gone or stuck leaves callbacks whose job Redis lost without a rescuer.
struct ReconcilerProbe: Probe {
    let database: PostgresPool
    let staleAfter: Duration

    func check(timeout: Duration) async -> ProbeResult {
        do {
            let rows = try await database.query("""
                SELECT extract(epoch FROM passed_at)::float8 AS passed, extract(epoch FROM now() - passed_at)::float8 AS age
                FROM service_passes WHERE service = 'reconciler'
                """)
            guard let row = rows.first else { return .failure("the reconciler has never finished a pass") }
            let age: Double = try row.decode("age")
            Gauge(label: "redial_reconciler_last_pass_timestamp_seconds").record(try row.decode("passed", as: Double.self))
            let summary = "the reconciler's last pass finished \(Int(age)) s ago"
            return age <= staleAfter.seconds ? .success(summary) : .failure(summary)
        } catch {
            return .failure("\(error)")
        }
    }
}
