import Logging
import RedisClient

/// Keeps this worker's heartbeat key alive in one queue and its id in the registry. A worker
/// whose heartbeat expires is presumed dead: the reaper of any live worker recovers its jobs.
struct Heartbeat: Sendable {
    let keys: Keys
    let worker: String
    /// What the worker runs (`WorkerRelease`, as JSON): the heartbeat key's value.
    let announcement: String
    let ttl: Duration
    let redis: RedisPool
    let logger: Logger

    /// One beat. Returns false if the heartbeat had expired: this worker was presumed dead
    /// (e.g. paused past its TTL) and its jobs may have gone to others.
    func beat(first: Bool = false) async throws -> Bool {
        let beat = try await QueueScripts.beatHeartbeat.run(on: redis, keys, .init(worker: worker), arguments: [worker, ttl.milliseconds, announcement])
        return first || beat.int == 1
    }

    /// Beats every third of the TTL until cancelled.
    func run() async {
        var pause = Pause()
        while !Task.isCancelled {
            do {
                if try await !beat() {
                    logger.warning("this worker was presumed dead and its jobs recovered by others; its late acks will be refused",
                                   metadata: ["job.queue": "\(keys.queue)"])
                }
                pause.reset()
                try? await Task.sleep(for: ttl / 3)
            } catch {
                logger.warning("heartbeat failed: \(error)", metadata: ["job.queue": "\(keys.queue)"])
                await pause.wait()
            }
        }
    }

    /// Leaves the registry; only when it holds nothing, else the reaper finishes the job.
    func retire() async throws {
        let held = try await redis.jobsHeld(by: [worker], in: keys)
        guard held == 0 else {
            logger.warning("retiring with \(held) jobs still held; the reaper will return them", metadata: ["job.queue": "\(keys.queue)"])
            return
        }
        _ = try await redis.pipeline([.make("DEL", keys.alive(worker)), .make("ZREM", keys.workers, worker)])
    }
}
