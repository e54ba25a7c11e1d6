import Metrics
import Queue
import Synchronization

/// The engine as Prometheus should see it, whole-cluster: each queue's jobs by state, its oldest
/// ready job's wait, whether it is paused, its completions and failures so far and its run-time
/// histogram by job type (from the queue's Redis counters: every worker's, though Prometheus
/// scrapes none of them); live workers. The alert rules and the console's charts read the figures.
struct QueuesProbe: Probe {
    let jobs: JobQueue
    /// Live workers there should be (`REDIAL_EXPECTED_WORKERS`); fewer for a minute is an alert.
    let expectedWorkers: Int
    let releases = ReleaseGauges()

    func check(timeout: Duration) async -> ProbeResult {
        do {
            let names = try await jobs.queues()
            for name in names {
                let stats = try await jobs.stats(queue: name)
                for (state, count) in [("ready", stats.ready), ("delayed", stats.delayed), ("active", stats.active), ("dead", stats.dead)] {
                    Gauge(label: "redial_queue_jobs", dimensions: [("queue", name), ("state", state)]).record(count)
                }
                Gauge(label: "redial_queue_is_paused", dimensions: [("queue", name)]).record(stats.paused ? 1 : 0)
                let age = try await jobs.oldestReadyAge(queue: name) ?? .zero
                Gauge(label: "redial_queue_oldest_ready_seconds", dimensions: [("queue", name)]).record(age.seconds)
                let counters = try await jobs.counters(queue: name)
                for outcome in ["completed", "failed", "dead"] {
                    Gauge(label: "redial_queue_\(outcome)", dimensions: [("queue", name)]).record(counters[outcome] ?? 0)
                }
                for (type, runs) in RunTimeHistogram.runs(in: counters) {
                    for bucket in RunTimeHistogram.cumulative(runs) {
                        Gauge(label: "redial_queue_run_seconds_bucket", dimensions: [("queue", name), ("type", type), ("le", bucket.le)])
                            .record(bucket.count)
                    }
                }
            }
            let workers = try await jobs.liveWorkers(queues: names)
            let live = workers.count
            Gauge(label: "redial_workers_live").record(live)
            releases.record(Dictionary(grouping: workers.values.compactMap { $0 }, by: { $0 }).mapValues(\.count))
            Gauge(label: "redial_workers_expected").record(expectedWorkers)
            return .success("\(names.count) queues, \(live) live workers")
        } catch {
            return .failure("\(error)")
        }
    }
}

/// `redial_workers_release{channel, version, build, scripts}`: live workers by the release they
/// announce; a release no worker runs any more drops to 0.
final class ReleaseGauges: Sendable {
    private let seen = Mutex<Set<WorkerRelease>>([])

    func record(_ counts: [WorkerRelease: Int]) {
        let gone = seen.withLock { seen in
            let gone = seen.subtracting(counts.keys)
            seen = Set(counts.keys)
            return gone
        }
        for (release, count) in counts { gauge(release).record(count) }
        for release in gone { gauge(release).record(0) }
    }

    private func gauge(_ release: WorkerRelease) -> Gauge {
        Gauge(label: "redial_workers_release", dimensions: [("channel", release.channel.rawValue), ("version", release.version),
                                                           ("build", release.build), ("scripts", release.scripts)])
    }
}
