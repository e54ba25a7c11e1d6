import Foundation
import RedisClient

/// What an operator does to a Redis Cluster by hand, for the tests, the chaos suite and the
/// benchmark on loopback: ask who serves a slot, and move a slot from one master to another the
/// way `redis-cli --cluster reshard` does (IMPORTING/MIGRATING, the keys a few at a time with
/// `MIGRATE`, then the slot's new owner told to every master), slowly enough that clients meet
/// the slot half moved.
public struct RedisClusterAdmin: Sendable {
    /// Loopback ports of the cluster's nodes, any of them up.
    public let ports: [Int]

    public init(ports: [Int]) {
        self.ports = ports
    }

    /// Sends one command to the node on `port`.
    public func send(_ port: Int, _ arguments: [String]) async throws -> RedisValue {
        let connection = RedisConnection(configuration: RedisConfiguration(url: RedisURL(host: "127.0.0.1", port: port),
                                                                           connectTimeout: .milliseconds(500)))
        defer { Task { await connection.close() } }
        return try await connection.send(arguments.map { $0 as any RedisArgument })
    }

    /// `CLUSTER SLOTS` as the first node that answers sees it: each range and its master's port.
    public func slotRanges() async -> [(slots: ClosedRange<Int>, master: Int)] {
        for port in ports {
            guard let ranges = try? await send(port, ["CLUSTER", "SLOTS"]).array else { continue }
            return ranges.compactMap { range in
                guard let parts = range.array, parts.count >= 3, let start = parts[0].int, let end = parts[1].int,
                      let master = parts[2].array?[1].int, start <= end else { return nil }
                return (start...end, master)
            }
        }
        return []
    }

    /// The port of the master serving `slot`, nil when no node answers.
    public func masterPort(ofSlot slot: Int) async -> Int? {
        await slotRanges().first { $0.slots.contains(slot) }?.master
    }

    /// The masters' ports, sorted.
    public func masterPorts() async -> [Int] {
        Set(await slotRanges().map(\.master)).sorted()
    }

    /// The node id of the node on `port` (`CLUSTER MYID`).
    public func nodeID(_ port: Int) async throws -> String {
        guard let id = try await send(port, ["CLUSTER", "MYID"]).string else { throw SetupError("no node id on port \(port)") }
        return id
    }

    /// Moves `slot` from its master to the master on `target`, `batch` keys per `MIGRATE` with
    /// `pause` between; returns how many keys moved. Jobs keep flowing meanwhile: clients are sent
    /// on with `ASK` (and `TRYAGAIN` for keys split over both sides) until the end, `MOVED` after.
    @discardableResult
    public func migrate(slot: Int, to target: Int, batch: Int = 5, pause: Duration = .milliseconds(30)) async throws -> Int {
        guard let source = await masterPort(ofSlot: slot) else { throw SetupError("no master serves slot \(slot)") }
        guard source != target else { return 0 }
        let (sourceID, targetID) = (try await nodeID(source), try await nodeID(target))
        _ = try await send(target, ["CLUSTER", "SETSLOT", String(slot), "IMPORTING", sourceID])
        _ = try await send(source, ["CLUSTER", "SETSLOT", String(slot), "MIGRATING", targetID])
        var moved = 0
        while let keys = try await send(source, ["CLUSTER", "GETKEYSINSLOT", String(slot), String(batch)]).array?.compactMap(\.string),
              !keys.isEmpty {
            _ = try await send(source, ["MIGRATE", "127.0.0.1", String(target), "", "0", "5000", "KEYS"] + keys)
            moved += keys.count
            try await Task.sleep(for: pause)
        }
        // The new owner first (it stops asking for ASKING), then the old one (it starts sending
        // MOVED), then the rest, as redis-cli does.
        for port in [target, source] + (await masterPorts()).filter({ $0 != target && $0 != source }) {
            _ = try await send(port, ["CLUSTER", "SETSLOT", String(slot), "NODE", targetID])
        }
        return moved
    }
}
