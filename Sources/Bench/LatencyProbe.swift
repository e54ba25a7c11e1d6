import Dispatch
import Histogram
import Queue
import RedisClient
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

    static let policy = JobPolicy(queue: "latency", maxAttempts: 1, timeout: .seconds(10))

    /// Enqueues probe jobs at `rate` for `seconds` (a batch of what is due every half
    /// millisecond); returns how many it sent.
    static func enqueueSteadily(port: Int, rate: Double, seconds: Double) async throws -> Int {
        let jobs = JobQueue(redis: RedisPool(configuration: RedisConfiguration(url: RedisURL(host: "127.0.0.1", port: port), poolSize: 2)))
        let start = DispatchTime.now()
        var sent = 0
        while start.secondsSince < seconds {
            let due = Int(rate * start.secondsSince)
            if due > sent {
                _ = try await jobs.enqueue(batch: (sent..<due).map { _ in JobQueue.Request(type: "probe", payload: payload(), policy: policy) })
                sent = due
            }
            try await Task.sleep(for: .microseconds(500))
        }
        return sent
    }
}
