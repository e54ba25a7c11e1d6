import Metrics
import Queue
import PostgresClient

/// The carrier's answer-seizure ratio over the attempts that ended in the last `window`:
/// answered ÷ ended. Visitors who are busy or do not pick up are ordinary; none answered while
/// the carrier's own failures (network failures, calls it could not account for) make up half
/// or more is a telephony incident even while OPTIONS is green. Too few attempts say nothing
/// either way: the probe stays up.
struct AnswerRatioProbe: Probe {
    let database: PostgresPool
    let window: Duration
    let minimumAttempts: Int

    func check(timeout: Duration) async -> ProbeResult {
        do {
            let rows = try await database.query("""
                SELECT count(*)::int AS ended,
                       count(*) FILTER (WHERE outcome = 'answered')::int AS answered,
                       count(*) FILTER (WHERE outcome IN ('network_failure', 'unknown'))::int AS carrier_failed
                FROM attempts WHERE ended_at > now() - make_interval(secs => $1)
                """, [window.seconds])
            guard let row = rows.first else { return .failure("no answer") }
            let ended: Int = try row.decode("ended")
            let answered: Int = try row.decode("answered")
            let carrierFailed: Int = try row.decode("carrier_failed")
            for (result, count) in [("answered", answered), ("carrier_failed", carrierFailed), ("other", ended - answered - carrierFailed)] {
                Gauge(label: "redial_dial_attempts_recent", dimensions: [("result", result)]).record(count)
            }
            let summary = "\(answered) of \(ended) attempts answered, \(carrierFailed) failed by the carrier in the last \(Int(window.seconds)) s"
            if ended >= minimumAttempts, answered == 0, carrierFailed * 2 >= ended {
                return .failure(summary)
            }
            return .success(summary)
        } catch {
            return .failure("\(error)")
        }
    }
}
