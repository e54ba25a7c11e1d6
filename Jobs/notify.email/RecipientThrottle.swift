import Queue
import RedisClient

/// At most `limit` messages to one recipient per `window`, across every worker
/// (`throttleRecipient.lua`): a burst of failed callbacks must not flood a manager's inbox or
/// trip the mail provider's abuse limits. A throttled message waits; it is not dropped.
public struct RecipientThrottle: Sendable {
    public let redis: RedisPool
    public let limit: Int
    public let window: Duration

    public init(redis: RedisPool, limit: Int, window: Duration) {
        self.redis = redis
        self.limit = limit
        self.window = window
    }

    static let script = RedisScript(name: "throttleRecipient",
                                    source: String(decoding: PackageResources.throttleRecipient_lua, as: UTF8.self))

    /// nil when a message to `recipient` may go now (it is counted); else how long to wait.
    public func acquire(channel: String, recipient: String) async throws -> Duration? {
        let reply = try await redis.run(Self.script, keys: ["redial:throttle:\(channel):\(recipient.lowercased())"],
                                        arguments: [limit, window.milliseconds])
        guard let wait = reply.int, wait > 0 else { return nil }
        return .milliseconds(wait)
    }
}
