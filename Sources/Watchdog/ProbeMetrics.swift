import Foundation
import Metrics
import Queue

/// One probe target's results as Prometheus reads them, blackbox-exporter style.
struct ProbeMetrics: Sendable {
    let success: Gauge
    let up: Gauge
    let duration: Gauge
    let lastSuccess: Gauge

    init(probe: String, target: String) {
        let dimensions = [("probe", probe), ("target", target)]
        /// The last result: 1 succeeded, 0 failed.
        success = Gauge(label: "redial_probe_success", dimensions: dimensions)
        /// The state after the up/down thresholds: what alerts and the dial guard act on.
        up = Gauge(label: "redial_probe_up", dimensions: dimensions)
        duration = Gauge(label: "redial_probe_duration_seconds", dimensions: dimensions)
        lastSuccess = Gauge(label: "redial_probe_last_success_timestamp_seconds", dimensions: dimensions)
    }

    func record(_ result: ProbeResult, took: Duration, isUp: Bool) {
        success.record(result.succeeded ? 1 : 0)
        up.record(isUp ? 1 : 0)
        duration.record(took.seconds)
        if result.succeeded { lastSuccess.record(Date().timeIntervalSince1970) }
    }
}
