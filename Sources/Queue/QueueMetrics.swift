import Metrics
import Synchronization

/// The engine's metrics (swift-metrics; exported as Prometheus text by the process that
/// bootstraps a backend). Handles are made once per job type and reused: making one takes the
/// metrics system's lock, too costly per job.
final class QueueMetrics: Sendable {
    let queue: String

    struct TypeMetrics: Sendable {
        let started, completed, failed, retried, dead: Counter
        let waited, ran: Timer
    }

    private let byType = Mutex<[String: TypeMetrics]>([:])
    private let recoveredCounter: Counter
    private let ready, delayed, deadGauge, pausedGauge: Gauge

    init(queue: String) {
        self.queue = queue
        recoveredCounter = Counter(label: "redial_jobs_recovered_total", dimensions: [("queue", queue)])
        ready = Gauge(label: "redial_queue_ready", dimensions: [("queue", queue)])
        delayed = Gauge(label: "redial_queue_delayed", dimensions: [("queue", queue)])
        deadGauge = Gauge(label: "redial_queue_dead", dimensions: [("queue", queue)])
        pausedGauge = Gauge(label: "redial_queue_paused", dimensions: [("queue", queue)])
    }

    func of(_ type: String) -> TypeMetrics {
        byType.withLock { cache in
            if let metrics = cache[type] { return metrics }
            let dimensions = [("queue", queue), ("type", type)]
            func counter(_ name: String) -> Counter { Counter(label: "redial_jobs_\(name)_total", dimensions: dimensions) }
            let metrics = TypeMetrics(
                started: counter("started"), completed: counter("completed"), failed: counter("failed"),
                retried: counter("retried"), dead: counter("dead"),
                waited: Timer(label: "redial_job_wait_seconds", dimensions: dimensions),
                ran: Timer(label: "redial_job_run_seconds", dimensions: dimensions))
            cache[type] = metrics
            return metrics
        }
    }

    /// A job of a type this worker does not know was handed back (`redial_jobs_unknown_type_total`).
    func unknownType(_ type: String) {
        Counter(label: "redial_jobs_unknown_type_total", dimensions: [("queue", queue), ("type", String(type.prefix(128)))]).increment()
    }

    func recovered(_ count: Int) {
        if count > 0 { recoveredCounter.increment(by: count) }
    }

    /// 1 while this worker finds the queue paused.
    func paused(_ paused: Bool) {
        pausedGauge.record(paused ? 1 : 0)
    }

    func depth(ready: Int, delayed: Int, dead: Int) {
        self.ready.record(ready)
        self.delayed.record(delayed)
        deadGauge.record(dead)
    }
}
