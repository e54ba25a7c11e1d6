import Dispatch
import Foundation
import LocalServices
import Queue
import RedisClient

/// The drain on a Redis Cluster against one Redis (`redial-bench --cluster`, part of `make
/// bench`): the same backlog of noop jobs over three queues, drained by the same `redial work`
/// processes, once from a single server and once from a cluster of three masters (each with a
/// replica) where each queue sits on a master of its own; in alternating rounds, so the
/// machine's drift falls on both alike. What scales with shards is Redis's share of the work;
/// the workers' share does not.
struct ClusterBench {
    let singlePort: Int
    let clusterPorts: [Int]
    let redial: String
    let quick: Bool

    struct Results: Encodable {
        /// Jobs per second drained, each round, by topology ("one_redis", "cluster").
        let drains: [String: [Double]]
        /// CPU of every Redis server of the topology (replicas too) per job drained, µs, each round.
        let redisMicrosPerJob: [String: [Double]]
        /// Share of all cores busy during the drain, %, each round.
        let machineBusyPercent: [String: [Double]]
        let ratio: Double
        let queues: [String: String]
        let jobs: Int
        let processes: Int
        let concurrency: Int

        enum CodingKeys: String, CodingKey {
            case drains = "drain_jobs_per_s", redisMicrosPerJob = "redis_cpu_us_per_job", machineBusyPercent = "machine_busy_percent", ratio = "cluster_to_one_redis_ratio", queues = "queue_masters", jobs, processes, concurrency
        }
    }

    func run() async throws -> Results {
        let single = RedisURL(host: "127.0.0.1", port: singlePort)
        let cluster = RedisURL(clusterSeeds: clusterPorts.prefix(3).map { RedisURL.Address(host: "127.0.0.1", port: $0) })
        // Three queues, one on each master.
        let admin = RedisClusterAdmin(ports: clusterPorts)
        var queueMasters: [Int: String] = [:]
        for n in 0..<1000 where queueMasters.count < 3 {
            if let master = await admin.masterPort(ofSlot: HashSlot.of("bench-\(n)")), queueMasters[master] == nil {
                queueMasters[master] = "bench-\(n)"
            }
        }
        guard queueMasters.count == 3 else { throw BenchError("the cluster on \(clusterPorts) has no three masters") }
        let queues = queueMasters.values.sorted()
        let jobs = quick ? 30_000 : 120_000, rounds = quick ? 2 : 3, processes = 2, concurrency = 64
        var drains: [String: [Double]] = ["one_redis": [], "cluster": []]
        var redisCPU = drains, busy = drains
        for round in 0..<rounds {
            for (name, url) in round % 2 == 0 ? [("one_redis", single), ("cluster", cluster)] : [("cluster", cluster), ("one_redis", single)] {
                let run = try await drain(url, servers: name == "cluster" ? clusterPorts : [singlePort], queues: queues, jobs: jobs,
                                          processes: processes, concurrency: concurrency)
                print("cluster bench: \(name) round \(round + 1): \(Int(run.rate)) jobs/s; Redis servers \(Int(run.redisMicrosPerJob)) µs CPU per job, "
                      + "all cores \(Int(run.machineBusyPercent)) % busy")
                drains[name]!.append(run.rate.rounded())
                redisCPU[name]!.append((run.redisMicrosPerJob * 10).rounded() / 10)
                busy[name]!.append(run.machineBusyPercent.rounded())
            }
        }
        func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        return Results(drains: drains, redisMicrosPerJob: redisCPU, machineBusyPercent: busy, ratio: ((median(drains["cluster"]!) / median(drains["one_redis"]!)) * 100).rounded() / 100,
                       queues: Dictionary(uniqueKeysWithValues: queueMasters.map { ($0.value, "127.0.0.1:\($0.key)") }),
                       jobs: jobs, processes: processes, concurrency: concurrency)
    }

    /// Pre-enqueues `jobs` over the queues, then drains them with `redial work` processes serving
    /// all three; the rate counts from the first completion seen to the last.
    private func drain(_ url: RedisURL, servers: [Int], queues: [String], jobs: Int, processes: Int, concurrency: Int) async throws
        -> (rate: Double, redisMicrosPerJob: Double, machineBusyPercent: Double) {
        let pool = RedisPool(configuration: RedisConfiguration(url: url, poolSize: 4))
        defer { Task { await pool.close() } }
        _ = try await pool.sendToEachServer("FLUSHALL")
        let engine = JobQueue(redis: pool)
        let perQueue = jobs / queues.count
        for queue in queues {
            let batch = Array(repeating: JobQueue.Request(type: "noop", payload: "{}", policy: JobPolicy(queue: queue)), count: 1000)
            for _ in 0..<(perQueue / 1000) { _ = try await engine.enqueue(batch: batch) }
        }
        let total = perQueue / 1000 * 1000 * queues.count
        let workers = try (0..<processes).map { index in
            try ChildProcess(redial, ["work", "--queues", queues.joined(separator: ","), "--concurrency", String(concurrency)],
                             environment: ProcessInfo.processInfo.environment.merging([
                                "REDIAL_REDIS_URL": url.description, "REDIAL_LOG_LEVEL": "error",
                             ]) { $1 }, logName: "bench-cluster-worker-\(index)")
        }
        defer { for worker in workers { worker.stop(signal: SIGTERM) } }
        var first: (count: Int, at: DispatchTime, redis: Double, machine: MachineTicks)?
        var last = DispatchTime.now()
        var completed = 0
        let deadline = DispatchTime.now().uptimeNanoseconds + 600_000_000_000
        while completed < total {
            try await Task.sleep(for: .milliseconds(10))
            let counts = try await pool.pipeline(queues.map { .make("HGET", Keys(queue: $0).stats, "completed") })
            completed = counts.reduce(0) { $0 + ($1.int ?? 0) }
            last = DispatchTime.now()
            if first == nil, completed > 0 { first = (completed, last, try await redisCPUSeconds(servers), try MachineTicks.now()) }
            if last.uptimeNanoseconds > deadline { throw BenchError("cluster drain did not finish in 600 s (\(completed) of \(total))") }
        }
        let (redisAtEnd, machineAtEnd) = (try await redisCPUSeconds(servers), try MachineTicks.now())
        guard let first else { throw BenchError("no job completed") }
        let jobs = Double(max(total - first.count, 1))
        return (jobs / max(Double(last.uptimeNanoseconds - first.at.uptimeNanoseconds) / 1e9, 1e-3),
                (redisAtEnd - first.redis) / jobs * 1e6,
                Double(machineAtEnd.busy - first.machine.busy) / Double(max(machineAtEnd.total - first.machine.total, 1)) * 100)
    }

    /// User and system CPU seconds of every server (the whole process: main thread, replication, AOF).
    private func redisCPUSeconds(_ ports: [Int]) async throws -> Double {
        var seconds = 0.0
        for port in ports {
            let info = try await RedisClusterAdmin(ports: ports).send(port, ["INFO", "cpu"]).string ?? ""
            for line in info.split(whereSeparator: \.isNewline) where line.hasPrefix("used_cpu_sys:") || line.hasPrefix("used_cpu_user:") {
                seconds += Double(line.split(separator: ":").last ?? "") ?? 0
            }
        }
        return seconds
    }
}
