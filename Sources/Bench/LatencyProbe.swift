import Dispatch
import Queue
import RedisClient
import Synchronization

/// A handler that records enqueue → handler-start latency twice: from the enqueue call, and from
/// the instant the steady schedule had the job due. The payload carries both instants, from
/// CLOCK_MONOTONIC (`DispatchTime`), system-wide, in nanoseconds: `{"t":<call>,"due":<due>}`.
final class LatencyProbe: JobHandler {
    let fromCall = Mutex(LatencyHistogram.microseconds())
    let fromSchedule = Mutex(LatencyHistogram.microseconds())

    func run(_ job: Job) async throws -> JobOutcome {
        try record(job.payload)
        return .completed
    }

    /// Records the latency of a payload that arrived now.
    private func record(_ payload: [UInt8]) throws {
        let now = DispatchTime.now().uptimeNanoseconds
        let (call, due) = try Self.instants(payload)
        fromCall.withLock { $0.record(micros: Self.micros(since: call, now)) }
        fromSchedule.withLock { $0.record(micros: Self.micros(since: due, now)) }
    }

    private static func micros(since instant: UInt64, _ now: UInt64) -> UInt64 {
        now > instant ? (now - instant) / 1000 : 0
    }

    /// The instants in a payload `{"t":<ns>,"due":<ns>}`, read without a JSON decoder: the probe
    /// measures the engine, and a decoder costs the worker more CPU per job than the engine's
    /// own hot path.
    static func instants(_ payload: [UInt8]) throws -> (call: UInt64, due: UInt64) {
        let prefix = Array(#"{"t":"#.utf8)
        let separator = Array(#","due":"#.utf8)
        guard payload.starts(with: prefix), payload.last == UInt8(ascii: "}"),
              let comma = payload.firstIndex(of: UInt8(ascii: ",")),
              payload[comma...].starts(with: separator),
              let call = UInt64(String(decoding: payload[prefix.count..<comma], as: UTF8.self)),
              let due = UInt64(String(decoding: payload[(comma + separator.count)..<(payload.count - 1)], as: UTF8.self))
        else { throw BenchError("a probe payload is not {\"t\":<ns>,\"due\":<ns>}: \(String(decoding: payload, as: UTF8.self))") }
        return (call, due)
    }

    static let policy = JobPolicy(queue: "latency", maxAttempts: 1, timeout: .seconds(10))

    /// Enqueues probe jobs at `rate` for `seconds` on a fixed schedule (`steadily`).
    static func enqueueSteadily(port: Int, rate: Double, seconds: Double) async throws -> (jobs: Int, calls: Int) {
        let jobs = JobQueue(redis: RedisPool(configuration: RedisConfiguration(url: RedisURL(host: "127.0.0.1", port: port), poolSize: 2)))
        return try await steadily(rate: rate, seconds: seconds) { payloads in
            _ = try await jobs.enqueue(batch: payloads.map { JobQueue.Request(type: "probe", payload: $0, policy: policy) })
        }
    }

    /// The floor's load: the same schedule, each call one `LPUSH` of the due payloads onto a bare
    /// list (no job records, no ids).
    static func pushSteadily(port: Int, rate: Double, seconds: Double) async throws -> (jobs: Int, calls: Int) {
        let connection = RedisConnection(configuration: RedisConfiguration(url: RedisURL(host: "127.0.0.1", port: port)))
        return try await steadily(rate: rate, seconds: seconds) { payloads in
            try await connection.send(["LPUSH", floorList] + payloads.map { $0 as any RedisArgument })
        }
    }

    static let floorList = "bench:floor"

    /// Sends payloads at `rate` for `seconds` on a fixed schedule, payload i due at
    /// start + i / rate. Each wake-up sends what is due in one call and waits for its reply,
    /// then sleeps 50 µs: about 0.45 ms between calls here at 36,000 jobs/s under `everysec`
    /// (about 17 jobs each), about 1 ms under `always`. A job's due instant counts the
    /// enqueuer's own lateness too (coordinated omission: a stalled enqueuer would otherwise
    /// hide the stall). Returns how many payloads it sent and in how many calls.
    private static func steadily(rate: Double, seconds: Double, send: ([String]) async throws -> Void) async throws -> (jobs: Int, calls: Int) {
        let start = DispatchTime.now()
        var sent = 0
        var calls = 0
        while start.secondsSince < seconds {
            let due = Int(rate * start.secondsSince)
            if due > sent {
                try await send((sent..<due).map { index in
                    let dueAt = start.uptimeNanoseconds + UInt64(Double(index) / rate * 1e9)
                    return #"{"t":\#(DispatchTime.now().uptimeNanoseconds),"due":\#(dueAt)}"#
                })
                sent = due
                calls += 1
            }
            try await Task.sleep(for: .microseconds(50))
        }
        return (sent, calls)
    }

    /// The floor's consumer: pops up to 64 payloads at a time from the bare list (`BLMPOP`) and
    /// records their latency, until cancelled.
    func consumeFloor(port: Int) async throws {
        let connection = RedisConnection(configuration: RedisConfiguration(url: RedisURL(host: "127.0.0.1", port: port)))
        while !Task.isCancelled {
            let reply = try await connection.pipeline([.make("BLMPOP", "1", "1", Self.floorList, "RIGHT", "COUNT", "64")], blocking: .seconds(1))[0]
            // [list, [payloads]], or null when the second passed with nothing.
            guard let items = try reply.get().array?.last?.array else { continue }
            for item in items { if let payload = item.bytes { try record(payload) } }
        }
        await connection.close()
    }
}
