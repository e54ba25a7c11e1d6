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

    /// Asks and moves slots (see `RedisClusterAdmin`).
    public var admin: RedisClusterAdmin { RedisClusterAdmin(ports: servers.map(\.port)) }

    public func server(onPort port: Int) -> PrivateRedis? { servers.first { $0.port == port } }

    public func send(_ port: Int, _ arguments: [String]) async throws -> RedisValue {
        try await admin.send(port, arguments)
    }

    public func stop() {
        for server in servers { server.stop() }
    }

    deinit { stop() }
}
