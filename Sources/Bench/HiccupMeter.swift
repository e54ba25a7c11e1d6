import Dispatch
import Foundation
import Synchronization

/// How late this machine wakes a thread that asked to sleep 1 ms (jHiccup's method), measured
/// on a thread of its own while the latency scenario runs. A job's enqueue → start latency can
/// never be shorter than the stalls every thread here suffers; reported next to it, this says
/// how much of the tail is the machine's and how much the engine's. It costs about a thousand
/// wake-ups a second, a few percent of one core; same-time runs with and without it showed no
/// difference in the latency measured.
final class HiccupMeter: Sendable {
    private let histogram = Mutex(LatencyHistogram.microseconds())
    private let running = Atomic<Bool>(true)

    init() {
        let thread = Thread { [self] in
            while running.load(ordering: .relaxed) {
                let before = DispatchTime.now().uptimeNanoseconds
                usleep(1000)
                let slept = DispatchTime.now().uptimeNanoseconds - before
                let lateMicros = slept > 1_000_000 ? (slept - 1_000_000) / 1000 : 0
                histogram.withLock { $0.record(micros: lateMicros) }
            }
        }
        thread.name = "hiccup-meter"
        thread.start()
    }

    /// Stops the thread (at its next wake-up) and returns what it saw; may be called again.
    func stop() -> Percentiles {
        running.store(false, ordering: .relaxed)
        return histogram.withLock { Percentiles($0) }
    }
}
