import Foundation
import LocalServices
import RedisClient

/// A Sentinel-watched Redis of a test's own: a master and one replica (the shipped durability
/// flags, as `PrivateRedis`), three sentinels with a quorum of two, all on free loopback ports.
/// A master that stops answering for a second is failed over (`down-after-milliseconds 1000`,
/// `failover-timeout 3000`: promoted in about 2.3 s here). The sentinels are `redis-server
/// --sentinel`, the binary the `redis-sentinel` package wraps.
public final class PrivateSentinels: @unchecked Sendable {
    // @unchecked: `sentinels` changes only in init and stop, called from one task.
    public static let masterName = "redial"
    public let master: PrivateRedis
    public let replica: PrivateRedis
    public let sentinelPorts: [Int]
    private var sentinels: [ChildProcess] = []

    public init() async throws {
        master = try await PrivateRedis()
        replica = try await PrivateRedis(arguments: ["--replicaof", "127.0.0.1", String(master.port)])
        sentinelPorts = try (0..<3).map { _ in try LocalHost.freePort() }
        for port in sentinelPorts {
            let directory = master.directory.appendingPathComponent("sentinel-\(port)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            // Sentinels rewrite their own configuration file: it must be theirs and writable.
            let file = directory.appendingPathComponent("sentinel.conf")
            try """
                port \(port)
                bind 127.0.0.1
                dir \(directory.path)
                sentinel monitor \(Self.masterName) 127.0.0.1 \(master.port) 2
                sentinel down-after-milliseconds \(Self.masterName) 1000
                sentinel failover-timeout \(Self.masterName) 3000
                sentinel parallel-syncs \(Self.masterName) 1

                """.write(to: file, atomically: true, encoding: .utf8)
            sentinels.append(try ChildProcess("/usr/bin/redis-server", [file.path, "--sentinel"], logName: "sentinel-\(port)"))
        }
        // Ready once the replica has synced and every sentinel knows it and the two others.
        let ready = try await eventually(timeout: .seconds(30), every: .milliseconds(200)) {
            guard let info = try? await self.send(self.replica.port, ["INFO", "replication"]).string,
                  info.contains("master_link_status:up") else { return false }
            for port in self.sentinelPorts {
                guard let replicas = try? await self.send(port, ["SENTINEL", "REPLICAS", Self.masterName]).array, replicas.count == 1,
                      let others = try? await self.send(port, ["SENTINEL", "SENTINELS", Self.masterName]).array, others.count == 2
                else { return false }
            }
            return true
        }
        guard ready else { throw SetupError("sentinels on \(sentinelPorts) did not come up: \(sentinels.map(\.log).joined(separator: "\n"))") }
    }

    /// `redis-sentinel://` naming the three sentinels and the master.
    public var url: RedisURL {
        RedisURL(sentinels: sentinelPorts.map { RedisURL.Address(host: "127.0.0.1", port: $0) }, masterName: Self.masterName)
    }

    /// The port of the server the sentinels name master now.
    public func masterPort() async throws -> Int? {
        for port in sentinelPorts {
            if let reply = try? await send(port, ["SENTINEL", "GET-MASTER-ADDR-BY-NAME", Self.masterName]).array,
               reply.count == 2, let text = reply[1].string { return Int(text) }
        }
        return nil
    }

    public func send(_ port: Int, _ arguments: [String]) async throws -> RedisValue {
        let connection = RedisConnection(configuration: RedisConfiguration(url: RedisURL(host: "127.0.0.1", port: port),
                                                                           connectTimeout: .milliseconds(500)))
        defer { Task { await connection.close() } }
        return try await connection.send(arguments.map { $0 as any RedisArgument })
    }

    public func stop() {
        for sentinel in sentinels { sentinel.stop() }
        sentinels = []
        replica.stop()
        master.stop()
    }

    deinit { stop() }
}
