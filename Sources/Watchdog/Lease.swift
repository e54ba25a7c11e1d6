import Queue
import RedisClient

/// The watchdog's lease in Redis (`holdLease.lua`): one holder at a time, renewed every third of
/// its time to live; a holder that stops renewing loses it when it expires.
struct Lease: Sendable {
    static let script = LuaScript("holdLease", PackageResources.holdLease_lua, keys: ["lease"])
    static let key = "redial:watchdog:lease"

    let redis: RedisPool
    let holder: String
    let ttl: Duration

    /// Keeps or takes the lease; true while this holder has it.
    func hold() async throws -> Bool {
        try await redis.run(Self.script.script, keys: [Self.key], arguments: [holder, ttl.milliseconds, "hold"]).int == 1
    }

    /// Gives the lease up (only if this holder has it), so a standby takes over at once.
    func release() async throws {
        _ = try await redis.run(Self.script.script, keys: [Self.key], arguments: [holder, ttl.milliseconds, "release"])
    }
}
