import Logging
import Metrics
import Queue
import Synchronization

/// Self-protection: while a telephony probe is down (a trunk, the carrier's API), the queue that
/// holds the dial jobs is paused, so callbacks wait instead of burning their attempts, and it is
/// resumed when every telephony probe is up again. Only a pause of its own is lifted: an
/// operator's pause stays. A probe counts only once it has been looked at enough times to be
/// sure of its state, so a watchdog that just took over neither pauses nor resumes on a guess.
final class DialGuard: Sendable {
    static let reasonPrefix = "watchdog: "

    let jobs: JobQueue
    let queue: String
    let logger: Logger
    private let states = Mutex<[String: (up: Bool, sure: Bool, detail: String)]>([:])
    private let pausedGauge = Gauge(label: "redial_watchdog_dial_paused")

    init(jobs: JobQueue, queue: String, logger: Logger) {
        self.jobs = jobs
        self.queue = queue
        self.logger = logger
    }

    /// Records a telephony probe's state and pauses or resumes as the states now say.
    func update(_ target: String, up: Bool, sure: Bool, detail: String) async {
        let (down, allSure) = states.withLock { states in
            states[target] = (up, sure, detail)
            let down = states.filter { !$0.value.up && $0.value.sure }.sorted { $0.key < $1.key }.map { "\($0.key) (\($0.value.detail))" }
            return (down, states.values.allSatisfy(\.sure))
        }
        do {
            if !down.isEmpty {
                if try await jobs.pause(queue: queue, reason: Self.reasonPrefix + "carrier down: " + down.joined(separator: ", ")) {
                    logger.error("dialing paused: telephony down", metadata: ["probes": "\(down.joined(separator: ", "))", "queue": "\(queue)"])
                }
                pausedGauge.record(1)
            } else if allSure {
                if let reason = try await jobs.pauseReason(queue: queue), reason.hasPrefix(Self.reasonPrefix) {
                    try await jobs.resume(queue: queue)
                    logger.notice("dialing resumed: telephony is back", metadata: ["queue": "\(queue)"])
                }
                pausedGauge.record(0)
            }
        } catch {
            logger.warning("dial guard: cannot change the pause of \(queue) now: \(error)")
        }
    }
}
