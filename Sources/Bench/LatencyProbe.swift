import Dispatch
import Histogram
import Queue
import Synchronization

/// A handler that records enqueue → handler-start latency. The payload carries the enqueue
/// instant from CLOCK_MONOTONIC (`DispatchTime`), system-wide, in nanoseconds.
final class LatencyProbe: JobHandler {
    struct Payload: Decodable {
        let t: UInt64
    }

    let histogram = Mutex(Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three))

    func run(_ job: Job) async throws -> JobOutcome {
        let now = DispatchTime.now().uptimeNanoseconds
        let sent = try job.decode(Payload.self).t
        let micros = now > sent ? (now - sent) / 1000 : 0
        histogram.withLock { _ = $0.record(Swift.min(micros, 60_000_000)) }
        return .completed
    }

    static func payload() -> String { #"{"t":\#(DispatchTime.now().uptimeNanoseconds)}"# }
}
