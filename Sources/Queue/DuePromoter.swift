import Logging
import RedisClient

/// Promotes due jobs (scheduled and retries) from delayed to ready. It sleeps until the next
/// job is due, but never longer than `maximumSleep`, so a job scheduled meanwhile for an earlier
/// time starts within tens of milliseconds of it. Any number of workers may run it at once.
struct DuePromoter: Sendable {
    let keys: Keys
    let redis: RedisPool
    let logger: Logger

    /// Upper bound on the delay between a job's due time and its promotion.
    static let maximumSleep: Duration = .milliseconds(20)
    static let batch = 1000

    /// One promotion; returns how many moved and how long until the next is due (nil: none).
    func promote() async throws -> (moved: Int, nextDue: Duration?) {
        let reply = try await QueueScripts.promoteDue.run(on: redis, keys, arguments: [keys.jobPrefix, Self.batch])
        guard let items = reply.array, items.count == 3, let moved = items[0].int, let next = items[1].int else {
            throw QueueError(.unexpectedReply, "promoteDue answered \(reply)")
        }
        return (moved, next < 0 ? nil : .milliseconds(next))
    }

    func run() async {
        var pause = Pause()
        while !Task.isCancelled {
            do {
                let (moved, nextDue) = try await promote()
                pause.reset()
                if moved == Self.batch { continue }  // more are due right now
                let sleep = min(nextDue ?? Self.maximumSleep, Self.maximumSleep)
                try? await Task.sleep(for: max(sleep, .milliseconds(1)))
            } catch {
                logger.warning("promotion failed: \(error)", metadata: ["job.queue": "\(keys.queue)"])
                await pause.wait()
            }
        }
    }
}
