import Foundation

/// What a worker runs, announced in its heartbeat so `redial stats` and the watchdog's metrics
/// show which releases serve the queues: the groundwork of the beta → production path, where two
/// builds run side by side.
public struct WorkerRelease: Codable, Sendable, Hashable {
    /// The release channel a worker belongs to. Each channel has queues of its own: production's
    /// are the catalog's names, beta's the same with `@beta` (`callbacks@beta`), so a beta worker
    /// takes only beta jobs and a production worker only production's.
    public enum Channel: String, Codable, Sendable, CaseIterable {
        case production, beta

        var suffix: String { self == .production ? "" : "@" + rawValue }

        /// This channel's name of a catalog queue.
        public func queue(_ base: String) -> String { base + suffix }

        /// The catalog queue a channel's queue is a copy of (`callbacks@beta` → `callbacks`).
        public static func base(of queue: String) -> String {
            queue.hasSuffix(Channel.beta.suffix) ? String(queue.dropLast(Channel.beta.suffix.count)) : queue
        }

        /// The channel of a queue's name.
        public init(queue: String) {
            self = queue.hasSuffix(Channel.beta.suffix) ? .beta : .production
        }
    }

    /// The product's version (`redial --version`).
    public var version: String
    /// The build's identity: the first 12 hex digits of its executable's GNU build id (else of
    /// its SHA-256), so two builds of one version are told apart.
    public var build: String
    /// The version of the Redis scripts it runs (`ScriptSet.version`).
    public var scripts: String
    public var channel: Channel
    /// The newest PostgreSQL migration this build knows: a breaking migration waits until no live
    /// worker's is older (`redial migrate`).
    public var schema: Int?

    public init(version: String, build: String, scripts: String, channel: Channel = .production) {
        self.version = version
        self.build = build
        self.scripts = scripts
        self.channel = channel
    }

    /// The heartbeat's value.
    var announcement: String {
        String(decoding: (try? JSONEncoder().encode(self)) ?? Data("{}".utf8), as: UTF8.self)
    }

    /// Read from a heartbeat; nil for one that announced nothing (an older build's "1").
    init?(announcement: String) {
        guard let release = try? JSONDecoder().decode(Self.self, from: Data(announcement.utf8)) else { return nil }
        self = release
    }
}
