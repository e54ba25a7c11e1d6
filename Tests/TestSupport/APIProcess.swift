import Foundation
import HTTPClient
import LocalServices

/// A `redial serve` process of a test's own, on a free loopback port.
public final class APIProcess: @unchecked Sendable {
    // @unchecked: all stored properties are immutable after init (ChildProcess is thread-safe).
    public let process: ChildProcess
    public let base: String
    public let port: Int

    public init(environment: [String: String] = [:]) async throws {
        port = try LocalHost.freePort()
        base = "http://127.0.0.1:\(port)"
        // Redis and PostgreSQL URLs come from the test process's environment (make test exports them).
        var merged = ["REDIAL_HTTP_PORT": String(port)]
        for (key, value) in environment { merged[key] = value }
        process = try RedialBinary.start(["serve"], environment: merged, logName: "api-\(port)")
        let client = HTTPClient()
        let url = base + "/healthz"
        guard try await eventually(timeout: .seconds(20), { (try? await client.send(HTTPClientRequest(url: url)))?.status == 200 }) else {
            throw SetupError("redial serve did not answer on \(port): \(process.log)")
        }
    }

    public func stop() { process.stop(signal: SIGTERM) }
}
