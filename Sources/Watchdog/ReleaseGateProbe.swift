import Metrics
import ReleaseGate

/// The automatic rollback: while a beta release soaks, the gate is read at every look, and a
/// metric on which beta is measurably worse (enough samples on both sides, beyond its threshold)
/// rolls the release back at once: new callbacks go to production, beta's workers finish what
/// they hold. Counted in `redial_release_rollbacks_total`, which the BetaRolledBack alert reads.
struct ReleaseGateProbe: Probe {
    let gate: ReleaseGate

    func check(timeout: Duration) async -> ProbeResult {
        do {
            let report = try await gate.report()
            let worse = report.metrics.filter { $0.verdict == .fail }
            guard !worse.isEmpty else {
                return .success("release \(report.version) soaking: \(report.promotable ? "promotable" : "no metric worse yet")")
            }
            let reasons = report.reasons.filter { reason in worse.contains { reason.hasPrefix($0.name + ":") } }
            try await gate.rollback(version: report.version, actor: "watchdog", reason: "beta worse: " + reasons.joined(separator: "; "))
            Counter(label: "redial_release_rollbacks_total", dimensions: [("by", "watchdog")]).increment()
            return .failure("release \(report.version) rolled back: " + reasons.joined(separator: "; "))
        } catch .notFound {
            return .success("no release soaking")
        } catch {
            return .failure("\(error)")
        }
    }
}
