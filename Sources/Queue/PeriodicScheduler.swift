import Foundation
import Logging
import RedisClient
import ServiceLifecycle

/// Enqueues periodic jobs. Every worker runs one; each enqueues the due ticks of every schedule
/// under the dedup key `cron:<name>:<tick ms>`, so any number of workers make exactly one job per
/// tick, and a worker dying mid-way leaves the tick to the others. Progress is the last tick
/// enqueued (`redial:{<queue>}:cron:<name>`), so ticks missed while no worker ran are caught up
/// by the schedule's policy. Time is Redis's (`TIME`), not the worker's clock.
public struct PeriodicScheduler: Service {
    let schedules: [PeriodicSchedule]
    let jobs: JobQueue
    let logger: Logger

    /// How often due ticks are looked for: second-resolution schedules run on time.
    static let interval: Duration = .milliseconds(250)
    /// Catch-up of `all` is bounded: after a long outage, the most recent ticks only.
    public static let maximumCatchUp = 1000
    /// A tick's dedup key outlives any worker that could still find it due.
    static let dedupWindow: Duration = .seconds(2 * 86_400)
    /// Under `none`, a tick this late still counts as on time (a slow loop, not an outage).
    static let onTime: TimeInterval = 5

    public init(schedules: [PeriodicSchedule], jobs: JobQueue, logger: Logger) {
        self.schedules = schedules
        self.jobs = jobs
        self.logger = logger
    }

    public func run() async throws {
        guard !schedules.isEmpty else { return }
        await cancelWhenGracefulShutdown {
            var pause = Pause()
            while !Task.isCancelled {
                do {
                    let now = try await redisTime()
                    for schedule in schedules { try await tick(schedule, now: now) }
                    pause.reset()
                    try? await Task.sleep(for: Self.interval)
                } catch {
                    logger.warning("periodic jobs: \(error); will retry")
                    await pause.wait()
                }
            }
        }
    }

    static func dedupKey(_ schedule: PeriodicSchedule, _ tick: Date) -> String {
        "cron:\(schedule.name):\(Int64((tick.timeIntervalSince1970 * 1000).rounded()))"
    }

    func redisTime() async throws -> Date {
        let reply = try await jobs.redis.send("TIME")
        guard let parts = reply.array, parts.count == 2, let seconds = parts[0].string.flatMap(Double.init),
              let micros = parts[1].string.flatMap(Double.init) else { throw QueueError(.unexpectedReply, "TIME answered \(reply)") }
        return Date(timeIntervalSince1970: seconds + micros / 1_000_000)
    }

    /// Enqueues what is due for one schedule; returns the ticks enqueued.
    @discardableResult
    func tick(_ schedule: PeriodicSchedule, now: Date) async throws -> [Date] {
        let keys = Keys(queue: schedule.policy.queue)
        let key = keys.cron(schedule.name)
        guard let text = try await jobs.redis.send("GET", key).string, let lastMs = Double(text) else {
            // First sight of this schedule: start from now; earlier ticks never were owed.
            if let latest = schedule.latestTick(atOrBefore: now) {
                try await jobs.redis.send("SET", key, String(Int64(latest.timeIntervalSince1970 * 1000)), "NX")
            }
            return []
        }
        let last = Date(timeIntervalSince1970: lastMs / 1000)
        let chosen: [Date]
        let newest: Date
        switch schedule.catchUp {
        case .all:
            // Not before the dedup window: an older tick could no longer be told apart from a repeat.
            let horizon = now.addingTimeInterval(-Double(Self.dedupWindow.components.seconds))
            let due = schedule.ticks(after: max(last, horizon), through: now, limit: Self.maximumCatchUp)
            guard let latest = due.last else { return [] }
            (chosen, newest) = (due, latest)
        case .latest, .none:
            guard let latest = schedule.latestTick(atOrBefore: now), latest > last else { return [] }
            let onTime = schedule.catchUp == .latest || now.timeIntervalSince(latest) <= Self.onTime
                || schedule.cron.next(after: last, in: schedule.timeZone) == latest
            (chosen, newest) = (onTime ? [latest] : [], latest)
        }
        if chosen.isEmpty {
            logger.info("periodic \(schedule.name): skipped the ticks missed before \(newest) (catch-up: none)")
        } else {
            var policy = schedule.policy
            policy.dedupWindow = max(policy.dedupWindow ?? .zero, Self.dedupWindow)
            let formatter = ISO8601DateFormatter()
            let requests = try chosen.map { tick in
                var payload = schedule.payload
                payload["tick"] = formatter.string(from: tick)
                return try JobQueue.Request(type: schedule.type, encoding: payload, policy: policy, dedupKey: Self.dedupKey(schedule, tick))
            }
            let receipts = try await jobs.enqueue(batch: requests)
            if chosen.count > 1 {
                logger.info("periodic \(schedule.name): caught up \(receipts.filter(\.created).count) missed ticks")
            }
        }
        // Only forward: a slower worker must not move progress back (its ticks are deduplicated anyway).
        _ = try await QueueScripts.advanceSchedule.run(on: jobs.redis, keys, .init(schedule: schedule.name),
                                                       arguments: [Int64(newest.timeIntervalSince1970 * 1000)])
        return chosen
    }
}
