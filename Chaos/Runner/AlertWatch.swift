import Foundation
import HTTPClient
import LocalServices

/// Prometheus with the shipped alert rules, scraping the run's watchdogs, so the report can say
/// which alerts each fault raised: every rule's `for:` shortened to 2 s and the dead-job window
/// to 1 minute (the run is short), nothing else changed. Alertmanager's routing is not part of
/// the run (WatchdogTests covers it end to end): the firing history is read from Prometheus's
/// own `ALERTS` series.
final class AlertWatch: Sendable {
    let port: Int
    private let prometheus: ChildProcess

    /// An alert's firing span, and the fault it is put down to.
    struct Span: Encodable, Sendable {
        let alert: String
        let labels: [String: String]
        let firedAt: Double
        /// Seconds into the run; nil: still firing when the run looked last.
        let resolvedAt: Double?
        var cause: String?
    }

    init(runDirectory: String, watchdogPorts: [Int]) async throws {
        port = try LocalHost.freePort()
        let directory = runDirectory + "/alert-watch"  // not make ops' prometheus/
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var rules = try String(contentsOf: LocalHost.repositoryRoot.appendingPathComponent("deploy/prometheus/rules.yml"), encoding: .utf8)
        for (from, to) in [("for: 30s", "for: 2s"), ("for: 1m", "for: 2s"), ("for: 2m", "for: 2s"), ("[15m]", "[1m]")] {
            guard rules.contains(from) else { throw SetupError("deploy/prometheus/rules.yml no longer contains '\(from)'") }
            rules = rules.replacingOccurrences(of: from, with: to)
        }
        try rules.write(toFile: directory + "/rules.yml", atomically: true, encoding: .utf8)
        let targets = watchdogPorts.map { "\"127.0.0.1:\($0)\"" }.joined(separator: ", ")
        try """
            global: {scrape_interval: 1s, evaluation_interval: 1s}
            rule_files: [\(directory)/rules.yml]
            scrape_configs: [{job_name: redial-watchdog, static_configs: [{targets: [\(targets)]}]}]
            """.write(toFile: directory + "/prometheus.yml", atomically: true, encoding: .utf8)
        prometheus = try ChildProcess("/usr/bin/prometheus", [
            "--config.file=\(directory)/prometheus.yml", "--storage.tsdb.path=\(directory)/data",
            "--web.listen-address=127.0.0.1:\(port)",
        ], logName: "chaos-prometheus-\(port)")
        let ready = "http://127.0.0.1:\(port)/-/ready"
        guard try await eventually(timeout: .seconds(30), {
            (try? await HTTPClient().send(HTTPClientRequest(url: ready, timeout: .seconds(1))))?.status == 200
        }) else { throw SetupError("Prometheus did not become ready: \(prometheus.log)") }
    }

    func stop() { prometheus.stop(signal: SIGTERM) }

    /// A watchdog has been scraped active and nothing but the always-firing `Watchdog` fires.
    func quiet() async throws -> Bool {
        let response = try await HTTPClient().send(HTTPClientRequest(
            url: "http://127.0.0.1:\(port)/api/v1/query?query=" + Self.escape("max(redial_watchdog_active) == 1")))
        guard try !Self.series(response).isEmpty else { return false }
        return try await firing().isEmpty
    }

    /// Alerts other than the always-firing `Watchdog` firing now, with their severity.
    func firing() async throws -> [(alert: String, severity: String)] {
        let response = try await HTTPClient().send(HTTPClientRequest(
            url: "http://127.0.0.1:\(port)/api/v1/query?query=" + Self.escape(#"ALERTS{alertstate="firing",alertname!="Watchdog"}"#)))
        return try Self.series(response).map { ($0.metric["alertname"] ?? "?", $0.metric["severity"] ?? "?") }.sorted { $0.alert < $1.alert }
    }

    /// Every firing span from `start` to now (seconds into the run, from Prometheus's history at
    /// one-second steps), but for the always-firing `Watchdog`.
    func spans(since start: Date) async throws -> [Span] {
        let now = Date()
        let query = "query=" + Self.escape(#"ALERTS{alertstate="firing",alertname!="Watchdog"}"#)
            + "&start=\(start.timeIntervalSince1970)&end=\(Int(now.timeIntervalSince1970) + 1)&step=1"
        let response = try await HTTPClient().send(HTTPClientRequest(url: "http://127.0.0.1:\(port)/api/v1/query_range?" + query))
        let end = now.timeIntervalSince(start)
        var spans: [Span] = []
        for series in try Self.series(response) {
            var labels = series.metric
            let name = labels.removeValue(forKey: "alertname") ?? "?"
            for name in ["alertstate", "__name__", "job", "incident"] { labels.removeValue(forKey: name) }
            let times = series.values.map { $0 - start.timeIntervalSince1970 }.sorted()
            // A gap of more than two steps ends one span and starts the next.
            var first = times.first ?? 0
            var last = first
            for time in times.dropFirst() + [Double.infinity] {
                if time - last > 2 {
                    spans.append(Span(alert: name, labels: labels, firedAt: first, resolvedAt: last >= end - 2 ? nil : last, cause: nil))
                    first = time
                }
                last = time
            }
        }
        return spans.sorted { $0.firedAt < $1.firedAt }
    }

    /// Puts each span down to the fault it follows: the latest to begin of the faults that explain
    /// this alert, began at most a second before it fired and ended at most `grace` seconds
    /// before. A span with no such fault is unexplained (a false alarm, an effect no fault
    /// declares, or one outlasting the grace).
    static func attribute(_ spans: [Span], to faults: [RunRecord.FaultSpan], grace: Double = 15) -> [Span] {
        spans.map { span in
            let cause = faults.filter { $0.explains.contains(span.alert) && $0.start - 1 <= span.firedAt && span.firedAt <= $0.end + grace }
                .max { $0.start < $1.start }
            var attributed = span
            attributed.cause = cause.map { "\($0.name) at \(String(format: "%.1f", $0.start)) s" }
            return attributed
        }
    }

    /// What the alerts say against the faults: an expected alert that never fired for its fault,
    /// a WatchdogAbsent (no fault here leaves the cluster unwatched: a killed watchdog has a
    /// standby), and a page still firing after the run settled.
    static func violations(_ spans: [Span], faults: [RunRecord.FaultSpan], stillFiring: [(alert: String, severity: String)]) -> [String] {
        var violations: [String] = []
        for fault in faults {
            let label = "\(fault.name) at \(String(format: "%.1f", fault.start)) s"
            for expected in fault.expectedAlerts where !spans.contains(where: { $0.alert == expected && $0.cause == label }) {
                violations.append("\(label) raised no \(expected)")
            }
        }
        for span in spans where span.alert == "WatchdogAbsent" {
            violations.append("WatchdogAbsent fired at \(String(format: "%.1f", span.firedAt)) s: no watchdog was active")
        }
        let pages = stillFiring.filter { $0.severity == "page" }.map(\.alert)
        if !pages.isEmpty { violations.append("still paging after the run settled: \(pages.joined(separator: ", "))") }
        return violations
    }

    private struct Series {
        let metric: [String: String]
        let values: [Double]
    }

    private static func series(_ response: HTTPClientResponse) throws -> [Series] {
        guard response.status == 200, let object = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
              let data = object["data"] as? [String: Any], let result = data["result"] as? [[String: Any]] else {
            throw SetupError("Prometheus answered \(response.status): \(response.text.prefix(300))")
        }
        return result.map { item in
            let points = (item["values"] as? [[Any]]) ?? ((item["value"] as? [Any]).map { [$0] } ?? [])
            return Series(metric: item["metric"] as? [String: String] ?? [:], values: points.compactMap { ($0.first as? NSNumber)?.doubleValue })
        }
    }

    private static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text
    }
}
