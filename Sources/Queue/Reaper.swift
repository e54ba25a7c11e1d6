import Logging
import RedisClient

/// Returns the jobs of dead workers (heartbeat expired) to ready, and keeps the dead jobs
/// within their bound (`pruneDead.lua`). Every worker runs one per queue; a short Redis lock
/// lets one at a time do a pass. The move itself is `reapWorker.lua`,
/// which re-checks the heartbeat and each job's holder atomically, so two reapers, or a reaper
/// racing a worker that just woke up, cannot recover a job twice or overwrite newer state.
struct Reaper: Sendable {
    let keys: Keys
    let worker: String
    let interval: Duration
    let redis: RedisPool
    let logger: Logger
    let metrics: QueueMetrics
    /// Dead jobs kept: the newest this many, none older than `deadRetention`.
    let deadKeep: Int
    let deadRetention: Duration

    /// One pass; returns how many jobs were recovered (and how many buried, out of attempts).
    func pass() async throws -> (recovered: Int, dead: Int) {
        let lock = try await redis.send("SET", keys.reaperLock, worker, "NX", "PX", max(interval.milliseconds, 50))
        guard lock == .status("OK") else { return (0, 0) }
        try await pruneDead()
        let workers = try await redis.send("ZRANGE", keys.workers, 0, -1).array?.compactMap(\.string) ?? []
        guard !workers.isEmpty else { return (0, 0) }
        let alive = try await redis.pipeline(workers.map { .make("EXISTS", keys.alive($0)) })
        var recovered = 0
        var buried = 0
        for (candidate, reply) in zip(workers, alive) where try reply.get().int == 0 {
            let result = try await QueueScripts.reapWorker.run(on: redis, keys, .init(worker: candidate),
                                                               arguments: [keys.jobPrefix, candidate, Self.forgetAfter.milliseconds])
            guard let counts = result.array, counts.count == 2 else { continue }  // -1: alive after all
            let (back, dead) = (counts[0].int ?? 0, counts[1].int ?? 0)
            if back + dead == 0 { continue }  // a dead worker kept registered, holding nothing
            recovered += back
            buried += dead
            logger.warning("recovered \(back) jobs of dead worker \(candidate) (\(dead) out of attempts → dead)",
                           metadata: ["job.queue": "\(keys.queue)", "worker.id": "\(candidate)"])
        }
        metrics.recovered(recovered)
        return (recovered, buried)
    }

    private func pruneDead() async throws {
        let pruned = try await QueueScripts.pruneDead.run(on: redis, keys, arguments: [keys.jobPrefix, deadKeep, deadRetention.milliseconds]).int ?? 0
        if pruned > 0 {
            logger.notice("deleted \(pruned) dead jobs past the newest \(deadKeep) or older than \(deadRetention)",
                          metadata: ["job.queue": "\(keys.queue)"])
        }
    }

    /// How long a silent worker stays registered (see `reapWorker.lua`).
    static let forgetAfter: Duration = .seconds(3600)

    func run() async {
        var pause = Pause()
        while !Task.isCancelled {
            do {
                _ = try await pass()
                let depth = try await redis.pipeline([.make("LLEN", keys.ready), .make("ZCARD", keys.delayed), .make("ZCARD", keys.dead)])
                metrics.depth(ready: try depth[0].get().int ?? 0, delayed: try depth[1].get().int ?? 0, dead: try depth[2].get().int ?? 0)
                pause.reset()
                try? await Task.sleep(for: interval)
            } catch {
                logger.warning("reaper pass failed: \(error)", metadata: ["job.queue": "\(keys.queue)"])
                await pause.wait()
            }
        }
    }
}
