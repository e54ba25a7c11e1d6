import Dispatch
import Histogram
import Queue
import RedisClient
import Synchronization

/// A handler that records enqueue → handler-start latency. The payload carries the enqueue
/// instant from CLOCK_MONOTONIC (`DispatchTime`), system-wide, in nanoseconds.
final class LatencyProbe: JobHandler {
    let histogram = Mutex(Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three))

    func run(_ job: Job) async throws -> JobOutcome {
        let now = DispatchTime.now().uptimeNanoseconds
        let sent = try Self.sentAt(job.payload)
        let micros = now > sent ? (now - sent) / 1000 : 0
        histogram.withLock { _ = $0.record(Swift.min(micros, 60_000_000)) }
        return .completed
    }

    /// The instant in a payload `{"t":<ns>}`, read without a JSON decoder: the probe measures the
    /// engine, and a decoder costs the worker more CPU per job than the engine's own hot path.
    static func sentAt(_ payload: [UInt8]) throws -> UInt64 {
        let prefix = Array(#"{"t":"#.utf8)
        guard payload.count > prefix.count + 1, payload.starts(with: prefix), payload.last == UInt8(ascii: "}"),
              let sent = UInt64(String(decoding: payload[prefix.count..<payload.count - 1], as: UTF8.self))
        else { throw BenchError("a probe payload is not {\"t\":<ns>}: \(String(decoding: payload, as: UTF8.self))") }
        return sent
    }

    static func payload() -> String { #"{"t":\#(DispatchTime.now().uptimeNanoseconds)}"# }

    static let policy = JobPolicy(queue: "latency", maxAttempts: 1, timeout: .seconds(10))

    /// Enqueues probe jobs at `rate` for `seconds`: each wake-up sends a batch of what is due,
    /// after a 0.5 ms sleep that lasts about 1.6 ms on this machine (at 20,000 jobs/s, batches
    /// of about 34); returns how many it sent.
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
