import CryptoPrimitives
import Queue
import RedisClient

/// At most `limit` messages to one recipient per `window`, across every worker
/// (`throttleRecipient.lua`): a burst of failed callbacks must not flood a manager's inbox or
/// trip the mail provider's abuse limits. A throttled message waits; it is not dropped. Its
/// counters name the recipient by lookup hash: Redis holds no address.
public struct RecipientThrottle: Sendable {
    public let redis: RedisPool
    public let limit: Int
    public let window: Duration
    let protection: DataProtection

    public init(redis: RedisPool, limit: Int, window: Duration, protection: DataProtection) {
        self.redis = redis
        self.limit = limit
        self.window = window
        self.protection = protection
    }

    static let script = LuaScript("throttleRecipient", PackageResources.throttleRecipient_lua, keys: ["counter"])

    /// The script's one key: the recipient's counter on a channel (addresses count case-blind).
    func counter(channel: String, recipient: String) -> String {
        "redial:throttle:\(channel):\(protection.lookup(recipient.lowercased()))"
    }

    /// nil when a message to `recipient` may go now (it is counted); else how long to wait.
    public func acquire(channel: String, recipient: String) async throws -> Duration? {
        let reply = try await redis.run(Self.script.script, keys: [counter(channel: channel, recipient: recipient)],
                                        arguments: [limit, window.milliseconds])
        guard let wait = reply.int, wait > 0 else { return nil }
        return .milliseconds(wait)
    }
}
