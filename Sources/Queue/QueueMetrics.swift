import Metrics

/// The engine's metrics (swift-metrics; exported as Prometheus text by the process that
/// bootstraps a backend). Names follow Prometheus conventions.
struct QueueMetrics: Sendable {
    let queue: String

    func counter(_ name: String, type: String) -> Counter {
        Counter(label: "redial_jobs_\(name)_total", dimensions: [("queue", queue), ("type", type)])
    }

    func enqueued(_ type: String) { counter("enqueued", type: type).increment() }
    func started(_ type: String) { counter("started", type: type).increment() }
    func completed(_ type: String) { counter("completed", type: type).increment() }
    func failed(_ type: String) { counter("failed", type: type).increment() }
    func retried(_ type: String) { counter("retried", type: type).increment() }
    func dead(_ type: String) { counter("dead", type: type).increment() }

    func recovered(_ count: Int) {
        Counter(label: "redial_jobs_recovered_total", dimensions: [("queue", queue)]).increment(by: count)
    }

    /// Enqueue (or run-at) → handler start, from Redis's own clock.
    func waited(milliseconds: Int64, type: String) {
        Timer(label: "redial_job_wait_seconds", dimensions: [("queue", queue), ("type", type)])
            .recordMilliseconds(max(0, milliseconds))
    }

    func ran(_ duration: Duration, type: String) {
        Timer(label: "redial_job_run_seconds", dimensions: [("queue", queue), ("type", type)])
            .recordNanoseconds(duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
    }

    func depth(ready: Int, delayed: Int, dead: Int) {
        Gauge(label: "redial_queue_ready", dimensions: [("queue", queue)]).record(ready)
        Gauge(label: "redial_queue_delayed", dimensions: [("queue", queue)]).record(delayed)
        Gauge(label: "redial_queue_dead", dimensions: [("queue", queue)]).record(dead)
    }
}
