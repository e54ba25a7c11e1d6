import Logging
import RedisClient

/// Start-up checks that Redis can keep the queue's promises: Redis ≥ 7 (BLMOVE, LMOVE,
/// ZRANGE BYSCORE), `maxmemory-policy noeviction` (a full Redis must refuse writes, not evict
/// jobs), `appendonly yes` (an acknowledged job survives a crash) with an `appendfsync` other than
/// `no` (`everysec` is allowed with a warning), and the Redis layout version (a build whose
/// layout differs from the data's must not run on it). Two builds with different scripts may
/// share a Redis (a beta beside production): each runs its own scripts by SHA, and each worker
/// announces its script set in its heartbeat.
/// In production a failed check stops the worker; in development it is a warning.
public enum Preflight {
    /// Problems found, each with what to change. Empty when Redis is fit.
    public static func findings(_ redis: RedisPool) async throws -> [String] {
        var problems: [String] = []
        // On a Redis Cluster every master holds some queues: each is checked, and named.
        let infos = try await redis.sendToEachServer("INFO", "server")
        let many = infos.count > 1
        for (server, info) in infos {
            let named = many ? "\(server): " : ""
            let version = (info.string ?? "").split(whereSeparator: \.isNewline).first { $0.hasPrefix("redis_version:") }
                .map { String($0.dropFirst("redis_version:".count)) } ?? "unknown"
            if (Int(version.split(separator: ".").first ?? "") ?? 0) < 7 {
                problems.append("\(named)Redis \(version) is too old: Redial needs Redis ≥ 7")
            }
        }
        do {
            for (server, setting) in try await settings(redis, "maxmemory-policy") where setting != "noeviction" {
                problems.append("\(many ? server + ": " : "")maxmemory-policy is \(setting): set `maxmemory-policy noeviction`, or Redis may evict jobs")
            }
            for (server, setting) in try await settings(redis, "appendonly") where setting != "yes" {
                problems.append("\(many ? server + ": " : "")appendonly is \(setting): set `appendonly yes`, or a Redis crash loses acknowledged jobs")
            }
            for (server, setting) in try await settings(redis, "appendfsync") where setting == "no" {
                problems.append("\(many ? server + ": " : "")appendfsync is no: set `appendfsync always` (or everysec), or a machine crash "
                    + "loses acknowledged jobs from however long the kernel held them (30 s and more)")
            }
        } catch let error as RedisError where error.code == .server {
            problems.append("cannot read Redis's configuration (\(error.message)): check maxmemory-policy and appendonly by hand")
        }
        let stamped = try await redis.send("GET", Keys.layoutVersion).string
        if let stamped, stamped != String(Keys.layout) {
            problems.append("Redis holds data in layout \(stamped), this build reads and writes layout \(Keys.layout): "
                + "run a build of layout \(stamped) (or migrate the data) before this one")
        }
        return problems
    }

    /// What is allowed but costs something a reader should know, each said once at start-up.
    public static func cautions(_ redis: RedisPool) async throws -> [String] {
        var cautions: [String] = []
        if ((try? await settings(redis, "appendfsync")) ?? []).contains(where: { $0.value == "everysec" }) {
            cautions.append("appendfsync is everysec: a crash of the machine (not of Redis alone) can lose the jobs acknowledged in "
                + "its last second; `appendfsync always` loses none (the shipped setting)")
        }
        if redis.cluster != nil, ((try? await settings(redis, "cluster-require-full-coverage")) ?? []).contains(where: { $0.value == "yes" }) {
            cautions.append("cluster-require-full-coverage is yes: while one master fails over, every queue stops, not only its own; "
                + "`cluster-require-full-coverage no` keeps the other shards serving (the shipped setting)")
        }
        return cautions
    }

    /// One configuration setting of each server (each master of a cluster).
    private static func settings(_ redis: RedisPool, _ name: String) async throws -> [(server: String, value: String)] {
        try await redis.sendToEachServer("CONFIG", "GET", name).map { ($0.server, $0.reply.array?.last?.string ?? "unknown") }
    }

    /// Runs the checks: throws in production when any fails, logs warnings otherwise. Stamps the
    /// layout version when Redis has none; never overwrites another.
    public static func run(_ redis: RedisPool, production: Bool, logger: Logger) async throws {
        let problems = try await findings(redis)
        if production, !problems.isEmpty {
            throw QueueError(.unsafeRedis, "refusing to run in production: " + problems.joined(separator: "; "))
        }
        for problem in problems { logger.warning("preflight: \(problem)") }
        for caution in try await cautions(redis) { logger.warning("preflight: \(caution)") }
        try await redis.send("SET", Keys.layoutVersion, String(Keys.layout), "NX")
    }
}
