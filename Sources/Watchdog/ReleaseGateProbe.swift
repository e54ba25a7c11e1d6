import Metrics
import Providers
import Queue
import ReleaseGate

/// The automatic rollback: while a beta release soaks, the gate is read at every look, and a
/// metric on which beta is measurably worse (enough samples on both sides, beyond its threshold)
/// rolls the release back at once: new callbacks go to production, what waits on beta's queues
/// moves to production's (and keeps moving at each look while no release soaks and no site is on
/// beta: follow-ups of what beta's workers still held). Counted in `redial_release_rollbacks_total`, which the BetaRolledBack
/// alert reads. Each look also notes the alerts firing in Alertmanager for the gate's alerts
/// metric, put down to the channel their labels name.
struct ReleaseGateProbe: Probe {
    let gate: ReleaseGate
    let alertmanager: Alertmanager

    func check(timeout: Duration) async -> ProbeResult {
        do {
            var report = try await gate.report()
            if let alerts = try? await alertmanager.alerts() {
                let attributed = alerts.filter { $0.state != "resolved" }.compactMap { alert in
                    Self.channel(of: alert.labels).map { (fingerprint: alert.id, name: alert.name, channel: $0) }
                }
                try await gate.noteAlerts(version: report.version, attributed)
                report = try await gate.report()
            }
            let worse = report.metrics.filter { $0.verdict == .fail }
            guard !worse.isEmpty else {
                return .success("release \(report.version) soaking: \(report.promotable ? "promotable" : "no metric worse yet")")
            }
            let reasons = report.reasons.filter { reason in worse.contains { reason.hasPrefix($0.name + ":") } }
            try await gate.rollback(version: report.version, actor: "watchdog", reason: "beta worse: " + reasons.joined(separator: "; "))
            Counter(label: "redial_release_rollbacks_total", dimensions: [("by", "watchdog")]).increment()
            return .failure("release \(report.version) rolled back: " + reasons.joined(separator: "; "))
        } catch .notFound {
            do {
                let moved = try await gate.sendBetaHome()
                return .success("no release soaking" + (moved > 0 ? "; \(moved) jobs waiting on beta moved to production" : ""))
            } catch {
                return .failure("moving beta's waiting jobs to production: \(error)")
            }
        } catch {
            return .failure("\(error)")
        }
    }

    /// The channel an alert's labels name: `channel`, else the channel of its `queue`; nil for
    /// an alert about neither (the carrier, a store), which is nobody's.
    static func channel(of labels: [String: String]) -> WorkerRelease.Channel? {
        if let channel = labels["channel"] { return WorkerRelease.Channel(rawValue: channel) }
        return labels["queue"].map { WorkerRelease.Channel(queue: $0) }
    }
}
