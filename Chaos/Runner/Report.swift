import Foundation

/// `Chaos/reports/<time>/report.json`, a human `report.md` and a timeline (`timeline.svg`:
/// accepted, in flight and terminal callbacks over time, faults shaded).
enum Report {
    struct Document: Encodable {
        let profile: String
        let brokenBuild: Bool
        let startedAt: String
        let verdict: Checker.Verdict
        let faults: [RunRecord.FaultSpan]
        let refusedByStatus: [String: Int]
        let timeline: [RunRecord.Sample]
    }

    static func write(verdict: Checker.Verdict, record: RunRecord, profile: Profile, broken: Bool, to root: String) throws -> String {
        let stamp = ISO8601DateFormatter().string(from: record.started).replacingOccurrences(of: ":", with: "")
        let directory = "\(root)/\(stamp)-\(profile.name)\(broken ? "-broken" : "")"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let document = Document(profile: profile.name, brokenBuild: broken, startedAt: ISO8601DateFormatter().string(from: record.started),
                                verdict: verdict, faults: record.faults,
                                refusedByStatus: Dictionary(uniqueKeysWithValues: record.refusals.map { (String($0.key), $0.value) }),
                                timeline: record.samples)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(document).write(to: URL(fileURLWithPath: directory + "/report.json"))
        try svg(record).write(toFile: directory + "/timeline.svg", atomically: true, encoding: .utf8)
        try markdown(document, record: record).write(toFile: directory + "/report.md", atomically: true, encoding: .utf8)
        return directory
    }

    static func verdictLine(_ verdict: Checker.Verdict, directory: String) -> String {
        let summary = "\(verdict.accepted) accepted, \(verdict.lost) lost, \(verdict.attemptsRungTwice) rung twice, "
            + "\(verdict.debits) debits for \(verdict.completed) completed, \(verdict.answeredNotDebited) of \(verdict.answeredCalls) answered calls "
            + "not debited, \(verdict.failedWithoutMessage) failed untold, \(verdict.recordingsStored) recordings stored, "
            + "\(verdict.jobsHeldByDeadWorkers) held by dead workers, \(verdict.alerts.count) alerts "
            + "(\(verdict.alerts.filter { $0.cause == nil }.count) unexplained)"
            + (verdict.noopAcknowledged > 0 ? ", noop jobs: \(verdict.noopAcknowledged) acknowledged, \(verdict.noopLost) lost in failovers, "
                + "\(verdict.noopNotAcknowledged) not acknowledged; \(verdict.restoredByReconciler.count) callbacks restored by the reconciler" : "")
        return verdict.violations.isEmpty
            ? "chaos: PASS — \(summary) (report: \(directory))"
            : "chaos: FAIL — \(verdict.violations.joined(separator: "; ")) — \(summary) (report: \(directory))"
    }

    static func markdown(_ document: Document, record: RunRecord) -> String {
        let v = document.verdict
        var lines = [
            "# Chaos run: \(document.profile)\(document.brokenBuild ? " (deliberately broken build)" : "")", "",
            "Started \(document.startedAt). Verdict: **\(v.violations.isEmpty ? "PASS" : "FAIL")**.", "",
            "| invariant | result |", "|---|---|",
            "| every callback answered 202 reaches a terminal status | \(v.terminal) of \(v.accepted) (lost: \(v.lost)) |",
            "| no visitor rung twice for one attempt | \(v.attemptsRungTwice) violations in \(v.rings) rings |",
            "| no SMS sent twice for one trigger | \(v.smsSentTwice) violations in \(v.sms) messages |",
            "| each completed call debited exactly once | \(v.debits) debits, \(v.completed) completed, balance drift \(v.balanceDrift) min |",
            "| no job still held by a dead worker | \(v.jobsHeldByDeadWorkers) |",
            "| no job in dead without a reason | \(v.deadJobsWithoutReason) |",
            "| every acknowledged noop enqueue completed (Sentinel profiles; lost ones a violation with WAIT) | "
                + (v.noopAcknowledged + v.noopNotAcknowledged > 0
                    ? "\(v.noopAcknowledged - v.noopLost - v.noopNotCompleted) of \(v.noopAcknowledged) (lost in failovers: \(v.noopLost); "
                        + "not acknowledged: \(v.noopNotAcknowledged)) |" : "not run |"),
            "| callbacks whose lost dial job the reconciler restored from PostgreSQL | "
                + (v.restoredByReconciler.isEmpty ? "none" : "\(v.restoredByReconciler.count) (all in report.json), e.g. "
                    + v.restoredByReconciler.prefix(3).joined(separator: ", ")) + " |",
            "| every component running at the end | \(v.componentsDown.isEmpty ? "yes" : "down: " + v.componentsDown.joined(separator: "; ")) |",
            "", "Settled \(v.settledAfterSeconds.map { String(format: "%.1f s", $0) } ?? "never") after the load stopped. "
                + "Completed \(v.completed), failed \(v.failed) (the failures are the magic numbers that must fail: busy, no answer, invalid, 503).",
            "", "Requests refused during faults, by status (0 = no answer): \(document.refusedByStatus.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", "))",
            "", "## Faults", "", "| at (s) | fault | lasted (s) |", "|---|---|---|",
        ]
        for fault in document.faults {
            lines.append("| \(String(format: "%.1f", fault.start)) | \(fault.name) | \(String(format: "%.1f", fault.end - fault.start)) |")
        }
        lines += ["", "## Recovery (fault end → callbacks completing again, worst per kind)", "", "| fault | seconds |", "|---|---|"]
        for (kind, seconds) in v.recoverySeconds.sorted(by: { $0.key < $1.key }) {
            lines.append("| \(kind) | \(String(format: "%.1f", seconds)) |")
        }
        lines += ["", "## Alerts (Prometheus, shipped rules with `for:` shortened to 2 s)", "",
                  "| alert | labels | fired (s) | resolved (s) | put down to |", "|---|---|---|---|---|"]
        for alert in v.alerts {
            let labels = alert.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            lines.append("| \(alert.alert) | \(labels) | \(String(format: "%.1f", alert.firedAt)) | "
                         + "\(alert.resolvedAt.map { String(format: "%.1f", $0) } ?? "still firing") | \(alert.cause ?? "**unexplained**") |")
        }
        if v.alerts.isEmpty { lines.append("| none | | | | |") }
        if !v.violations.isEmpty { lines += ["", "## Violations", ""] + v.violations.map { "- \($0)" } }
        lines += ["", "![timeline](timeline.svg)", ""]
        return lines.joined(separator: "\n")
    }

    static func svg(_ record: RunRecord) -> String {
        let samples = record.samples
        let width = 900.0, height = 320.0, left = 50.0, bottom = 30.0
        let maxT = max(samples.last?.t ?? 1, 1)
        let maxY = Double(max(samples.map(\.accepted).max() ?? 1, 1))
        func x(_ t: Double) -> Double { left + t / maxT * (width - left - 10) }
        func y(_ v: Double) -> Double { height - bottom - v / maxY * (height - bottom - 20) }
        func line(_ values: [Double], _ color: String, _ label: String, _ row: Int) -> String {
            let points = zip(samples, values).map { String(format: "%.1f,%.1f", x($0.t), y($1)) }.joined(separator: " ")
            return "<polyline fill='none' stroke='\(color)' stroke-width='2' points='\(points)'/>"
                + "<text x='\(left + 10)' y='\(20 + row * 16)' fill='\(color)' font-size='12'>\(label)</text>"
        }
        var parts = ["<svg xmlns='http://www.w3.org/2000/svg' width='\(Int(width))' height='\(Int(height))' font-family='sans-serif'>",
                     "<rect width='100%' height='100%' fill='white'/>"]
        for fault in record.faults {
            parts.append(String(format: "<rect x='%.1f' y='10' width='%.1f' height='%.1f' fill='#f4c7c3' opacity='0.6'><title>%@</title></rect>",
                                x(fault.start), max(2, x(fault.end) - x(fault.start)), height - bottom - 10, fault.name))
        }
        parts.append("<line x1='\(left)' y1='\(height - bottom)' x2='\(width - 10)' y2='\(height - bottom)' stroke='black'/>")
        parts.append("<line x1='\(left)' y1='10' x2='\(left)' y2='\(height - bottom)' stroke='black'/>")
        parts.append("<text x='\(width / 2)' y='\(height - 8)' font-size='12' text-anchor='middle'>seconds (\(Int(maxT)) s; shaded: faults)</text>")
        parts.append("<text x='5' y='20' font-size='11'>\(Int(maxY))</text><text x='5' y='\(Int(height - bottom))' font-size='11'>0</text>")
        parts.append(line(samples.map { Double($0.accepted) }, "#1f77b4", "accepted", 0))
        parts.append(line(samples.map { Double($0.terminal) }, "#2ca02c", "terminal (completed or failed)", 1))
        parts.append(line(samples.map { Double($0.accepted - $0.terminal) }, "#d62728", "in flight", 2))
        parts.append("</svg>")
        return parts.joined(separator: "\n")
    }
}
