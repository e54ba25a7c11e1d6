import Foundation
import LocalServices

/// Redis's own limit, measured with `redis-benchmark` against the same server in the same run.
enum RedisBenchmark {
    /// LPUSH requests per second with `clients` connections and `pipeline` commands per round trip.
    static func lpush(port: Int, clients: Int, pipeline: Int, requests: Int) async throws -> Double {
        let process = try ChildProcess("/usr/bin/redis-benchmark", [
            "-h", "127.0.0.1", "-p", String(port), "-c", String(clients), "-P", String(pipeline),
            "-n", String(requests), "-t", "lpush", "-q",
        ], logName: "bench-redis-benchmark")
        guard await process.waitForExit(timeout: .seconds(300)) == 0 else {
            throw BenchError("redis-benchmark failed: \(process.log)")
        }
        // Output: "LPUSH: 612345.67 requests per second, p50=… msec" (with \r progress lines before it).
        let line = process.log.split(whereSeparator: { $0 == "\r" || $0 == "\n" }).last { $0.hasPrefix("LPUSH:") } ?? ""
        guard let number = line.split(separator: " ").dropFirst().first.flatMap({ Double($0) }) else {
            throw BenchError("cannot read redis-benchmark's output: \(process.log.suffix(300))")
        }
        return number
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
