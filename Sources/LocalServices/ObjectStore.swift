import Foundation

/// A real S3-compatible server for tests: moto's server (PyPI `moto[server]`), in memory, on a
/// loopback port of its own. `make deps` installs it.
public final class ObjectStore: @unchecked Sendable {
    // @unchecked: immutable after init; ChildProcess is thread-safe.
    public let port: Int
    public let host: String
    private let server: ChildProcess

    /// - Parameter host: the address to listen on (the chaos suite's network gives one its
    ///   namespaced worker reaches).
    public init(host: String = "127.0.0.1") async throws {
        port = try LocalHost.freePort()
        self.host = host
        server = try ChildProcess("/usr/bin/env", ["python3", "-m", "moto.server", "-H", host, "-p", String(port)],
                                  logName: "s3-\(port)")
        let port = self.port
        guard try await eventually(timeout: .seconds(30), { LocalHost.accepts(port, host: host) }) else {
            throw SetupError("moto_server did not start (run make deps): \(server.log)")
        }
    }

    public var url: String { "http://\(host):\(port)" }

    /// The settings that point a Redial process at this store.
    public func settings(bucket: String) -> [String: String] {
        ["REDIAL_S3_URL": url, "REDIAL_S3_BUCKET": bucket, "REDIAL_S3_KEY": "test-key", "REDIAL_S3_SECRET": "test-secret",
         "REDIAL_S3_REGION": "us-east-1"]
    }

    public func stop() { server.stop() }
}
