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
        let info = try await redis.send("INFO", "server").string ?? ""
        let version = info.split(whereSeparator: \.isNewline).first { $0.hasPrefix("redis_version:") }
            .map { String($0.dropFirst("redis_version:".count)) } ?? "unknown"
        if (Int(version.split(separator: ".").first ?? "") ?? 0) < 7 {
            problems.append("Redis \(version) is too old: Redial needs Redis ≥ 7")
        }
        do {
            let policy = try await redis.send("CONFIG", "GET", "maxmemory-policy").array?.last?.string ?? "unknown"
            if policy != "noeviction" {
                problems.append("maxmemory-policy is \(policy): set `maxmemory-policy noeviction`, or Redis may evict jobs")
            }
            let aof = try await redis.send("CONFIG", "GET", "appendonly").array?.last?.string ?? "unknown"
            if aof != "yes" {
                problems.append("appendonly is \(aof): set `appendonly yes`, or a Redis crash loses acknowledged jobs")
            }
            let fsync = try await redis.send("CONFIG", "GET", "appendfsync").array?.last?.string ?? "unknown"
            if fsync == "no" {
                problems.append("appendfsync is no: set `appendfsync always` (or everysec), or a machine crash loses "
                    + "acknowledged jobs from however long the kernel held them (30 s and more)")
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
        let fsync = (try? await redis.send("CONFIG", "GET", "appendfsync").array?.last?.string) ?? nil
        guard fsync == "everysec" else { return [] }
        return ["appendfsync is everysec: a crash of the machine (not of Redis alone) can lose the jobs acknowledged in "
            + "its last second; `appendfsync always` loses none (the shipped setting)"]
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
