import Foundation
import Queue
import RedisClient

/// What `REDIAL_REDIS_WAIT=1` costs (`redial-bench --replication`, part of `make bench`): the
/// same enqueues against a master with one replica (both with the shipped flags, on this
/// machine), acknowledged by the master alone and after `WAIT 1`, in alternating rounds so the
/// machine's drift falls on both alike. One at a time (the relay's and a webhook's case: its
/// latency) and in batches of 100 (the relay under a backlog: its rate).
struct ReplicationBench {
    let masterPort: Int
    let quick: Bool

    struct Results: Encodable {
        /// One enqueue at a time, latency in ms, by mode ("master", "wait1").
        let single: [String: [String: Double]]
        /// Batches of 100, jobs per second, by mode.
        let batchJobsPerSecond: [String: Double]
        let p99Ratio: Double
        let batchRatio: Double

        enum CodingKeys: String, CodingKey {
            case single = "single_enqueue_ms", batchJobsPerSecond = "batch_jobs_per_s", p99Ratio = "wait1_p99_ratio", batchRatio = "wait1_batch_ratio"
        }
    }

    func run() async throws -> Results {
        let url = RedisURL(host: "127.0.0.1", port: masterPort)
        var waiting = RedisConfiguration(url: url, poolSize: 1)
        waiting.replicas = 1
        let queues = ["master": JobQueue(redis: RedisPool(configuration: RedisConfiguration(url: url, poolSize: 1))),
                      "wait1": JobQueue(redis: RedisPool(configuration: waiting))]
        let request = JobQueue.Request(type: "noop", payload: "{}", policy: JobPolicy(queue: "bench-replication"))
        var latencies: [String: [Double]] = ["master": [], "wait1": []]
        var batchSeconds: [String: Double] = ["master": 0, "wait1": 0]
        let rounds = quick ? 4 : 10, perRound = quick ? 300 : 1000, batches = quick ? 20 : 50
        for round in 0..<rounds {
            for mode in round % 2 == 0 ? ["master", "wait1"] : ["wait1", "master"] {
                let jobs = queues[mode]!
                for _ in 0..<perRound {
                    let start = ContinuousClock.now
                    _ = try await jobs.enqueue(request)
                    latencies[mode]!.append(Self.milliseconds(ContinuousClock.now - start))
                }
                let start = ContinuousClock.now
                for _ in 0..<batches { _ = try await jobs.enqueue(batch: Array(repeating: request, count: 100)) }
                batchSeconds[mode]! += Self.milliseconds(ContinuousClock.now - start) / 1000
            }
        }
        var single: [String: [String: Double]] = [:]
        for (mode, values) in latencies {
            let sorted = values.sorted()
            func at(_ p: Double) -> Double { (sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] * 1000).rounded() / 1000 }
            single[mode] = ["p50": at(0.5), "p99": at(0.99)]
        }
        let rate = batchSeconds.mapValues { (Double(rounds / 2 * batches * 100) / $0).rounded() }
        return Results(single: single, batchJobsPerSecond: rate,
                       p99Ratio: ((single["wait1"]!["p99"]! / single["master"]!["p99"]!) * 100).rounded() / 100,
                       batchRatio: ((rate["wait1"]! / rate["master"]!) * 100).rounded() / 100)
    }

    static func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }

    static func render(_ results: Results) -> String {
        let master = results.single["master"] ?? [:], wait = results.single["wait1"] ?? [:]
        return [
            String(format: "one enqueue, master's acknowledgement       p50 %.3f ms, p99 %.3f ms", master["p50"] ?? 0, master["p99"] ?? 0),
            String(format: "one enqueue, WAIT 1                          p50 %.3f ms, p99 %.3f ms (%.2f× the p99)", wait["p50"] ?? 0,
                   wait["p99"] ?? 0, results.p99Ratio),
            String(format: "batches of 100, master's / WAIT 1            %.0f / %.0f jobs/s (%.2f×)", results.batchJobsPerSecond["master"] ?? 0,
                   results.batchJobsPerSecond["wait1"] ?? 0, results.batchRatio),
        ].joined(separator: "\n")
    }
}
