import Foundation
import LocalServices
import RedisClient

/// A Redis Cluster of a test's own: three masters and three replicas on free loopback ports
/// (the shipped durability flags, as `PrivateRedis`; a shard failing over leaves the others
/// serving: `cluster-require-full-coverage no`), made with `redis-cli --cluster create
/// … --cluster-replicas 1`. A master that stops answering for a second is failed over
/// (`cluster-node-timeout 1000`).
public final class PrivateRedisCluster: @unchecked Sendable {
    // @unchecked: the servers change only in init and stop, called from one task.
    public let servers: [PrivateRedis]

    public init() async throws {
        var servers: [PrivateRedis] = []
        for _ in 0..<6 {
            // The bus port named: the default (port + 10000) is out of range for ephemeral ports.
            servers.append(try await PrivateRedis(arguments: [
                "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "1000",
                "--cluster-require-full-coverage", "no",
                "--cluster-port", String(try LocalHost.freePort()),
            ]))
        }
        self.servers = servers
        let created = try await ChildProcess.run("/usr/bin/redis-cli", ["--cluster", "create"] + servers.map { "127.0.0.1:\($0.port)" }
            + ["--cluster-replicas", "1", "--cluster-yes"])
        guard created.status == 0 else { throw SetupError("redis-cli --cluster create failed: \(created.output)") }
        // Ready once every node says the cluster is ok and each replica has synced.
        let ready = try await eventually(timeout: .seconds(30), every: .milliseconds(200)) {
            for server in servers {
                guard let info = try? await self.send(server.port, ["CLUSTER", "INFO"]).string, info.contains("cluster_state:ok") else { return false }
                guard let replication = try? await self.send(server.port, ["INFO", "replication"]).string,
                      replication.contains("role:master") || replication.contains("master_link_status:up") else { return false }
            }
            return true
        }
        guard ready else { throw SetupError("the cluster on \(servers.map(\.port)) did not come up") }
    }

    /// `redis-cluster://` naming the first three servers (any node would do).
    public var url: RedisURL {
        RedisURL(clusterSeeds: servers.prefix(3).map { RedisURL.Address(host: "127.0.0.1", port: $0.port) })
    }

    /// The port of the master serving `slot`, as the first node that answers sees it.
    public func masterPort(ofSlot slot: Int) async throws -> Int? {
        for server in servers {
            guard let ranges = try? await send(server.port, ["CLUSTER", "SLOTS"]).array else { continue }
            for range in ranges {
                guard let parts = range.array, parts.count >= 3, let start = parts[0].int, let end = parts[1].int else { continue }
                if (start...end).contains(slot) { return parts[2].array?[1].int }
            }
        }
        return nil
    }

    /// The node id of the server on `port` (`CLUSTER MYID`).
    public func nodeID(_ port: Int) async throws -> String {
        guard let id = try await send(port, ["CLUSTER", "MYID"]).string else { throw SetupError("no node id on \(port)") }
        return id
    }

    public func server(onPort port: Int) -> PrivateRedis? { servers.first { $0.port == port } }

    /// The masters, by port, as the first node that answers sees them.
    public func masterPorts() async throws -> [Int] {
        for server in servers {
            guard let ranges = try? await send(server.port, ["CLUSTER", "SLOTS"]).array else { continue }
            return Array(Set(ranges.compactMap { $0.array?[2].array?[1].int })).sorted()
        }
        return []
    }

    public func send(_ port: Int, _ arguments: [String]) async throws -> RedisValue {
        let connection = RedisConnection(configuration: RedisConfiguration(url: RedisURL(host: "127.0.0.1", port: port),
                                                                           connectTimeout: .milliseconds(500)))
        defer { Task { await connection.close() } }
        return try await connection.send(arguments.map { $0 as any RedisArgument })
    }

    public func stop() {
        for server in servers { server.stop() }
    }

    deinit { stop() }
}
