import Foundation
import LocalServices
import RedisClient

/// A Redis server of a test's own (own port, own AOF directory), for tests that kill, restart
/// or flush it without disturbing the shared one.
public final class PrivateRedis: @unchecked Sendable {
    // @unchecked: `server` changes only in start/stop, which a test calls from one task.
    public let port: Int
    public let directory: URL
    private var server: ChildProcess?
    private let extraArguments: [String]

    public init(arguments: [String] = []) async throws {
        port = try LocalHost.freePort()
        directory = LocalHost.repositoryRoot.appendingPathComponent(".run/test-redis/\(port)")
        try? FileManager.default.removeItem(at: directory)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        extraArguments = arguments
        try await start()
    }

    public var url: RedisURL { RedisURL(host: "127.0.0.1", port: port) }

    /// Starts (again) on the same port and directory, so the AOF written before is replayed.
    public func start() async throws {
        server = try ChildProcess("/usr/bin/redis-server", [
            "--port", String(port), "--bind", "127.0.0.1", "--dir", directory.path,
            "--appendonly", "yes", "--appendfsync", "always", "--save", "",
            "--maxmemory-policy", "noeviction",
        ] + extraArguments, logName: "redis-\(port)")
        let connection = RedisConnection(configuration: RedisConfiguration(url: url, connectTimeout: .milliseconds(200)))
        let up = try await eventually(timeout: .seconds(10)) {
            do {
                try await connection.send("PING")
                return true
            } catch let error as RedisError where error.code == .server {
                return error.serverErrorKind != "LOADING"  // NOAUTH means up; LOADING means not yet
            } catch {
                return false
            }
        }
        await connection.close()
        guard up else { throw SetupError("private redis-server on \(port) did not start: \(server?.log ?? "")") }
    }

    /// Kills the server (SIGKILL unless told otherwise) and waits until it is gone.
    public func stop(signal: Int32 = SIGKILL) {
        server?.stop(signal: signal)
        server = nil
    }

    public var pid: Int32? { server?.pid }

    deinit {
        server?.stop()
        try? FileManager.default.removeItem(at: directory)
    }
}
