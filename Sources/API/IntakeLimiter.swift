import CryptoPrimitives
import Domain
import PostgresClient
import Queue
import RedisClient

/// The abuse limits of callback intake. Per destination number and per client they count across
/// every site, so an attacker holding many site keys gets no more rings on a victim's phone than
/// one site would give; the thresholds are the requesting site's. Checked and counted atomically
/// in Redis (`checkIntakeLimits.lua`). When Redis cannot answer, the same limits are counted from
/// PostgreSQL's accepted callbacks (not atomic: two requests racing in that degraded mode may
/// both pass); when neither can, the request is refused. Never unchecked. Redis holds no number:
/// its keys and members carry the number's lookup hash (`DataProtection.lookup`), the same one
/// PostgreSQL's `callbacks.phone_lookup` holds.
struct IntakeLimiter: Sendable {
    let redis: RedisPool
    let database: PostgresPool
    let protection: DataProtection

    static let script = LuaScript("checkIntakeLimits", PackageResources.checkIntakeLimits_lua, keys: ["number", "client", "site"])

    /// The script's KEYS for one request, in its header's order (`number`: the number's lookup).
    static func keys(number: String, client: String, site: Site) -> [String] {
        [prefix + "number:" + number, prefix + "client:" + client, prefix + "site:" + site.id]
    }

    /// Every limiter key shares one hash tag: the script is one slot on Redis Cluster (one shard
    /// carries intake's counting, a few commands per accepted callback).
    static let prefix = "redial:{limits}:"

    enum Verdict: Equatable {
        case allowed
        case refused(limit: String, retryAfterSeconds: Int)
        /// Neither Redis nor PostgreSQL could count: refuse for now.
        case unavailable
    }

    func check(site: Site, phone: PhoneNumber, client: String) async -> Verdict {
        let limits = site.limits
        let number = protection.lookup(phone.e164)
        do {
            let reply = try await redis.run(Self.script.script, keys: Self.keys(number: number, client: client, site: site),
                                            arguments: [JobID.make(), number, limits.numberPer15Minutes, limits.numberPerHour,
                                                        limits.numberPerDay, limits.clientNumbersPerHour, limits.clientNumbersPerDay,
                                                        limits.sitePerMinute, limits.sitePerDay])
            if let items = reply.array, let code = items.first?.int {
                if code == 0 { return .allowed }
                let wait = items.count > 2 ? items[2].int ?? 1000 : 1000
                return .refused(limit: items.count > 1 ? items[1].string ?? "limit" : "limit", retryAfterSeconds: max(1, (wait + 999) / 1000))
            }
        } catch {
            // Fall through to PostgreSQL's count.
        }
        do {
            return try await checkInDatabase(site: site, number: number, client: client)
        } catch {
            return .unavailable
        }
    }

    /// The same limits over the callbacks PostgreSQL accepted (each accepted request is a row);
    /// `number` is the number's lookup hash.
    func checkInDatabase(site: Site, number: String, client: String) async throws -> Verdict {
        let row = try await database.query("""
            SELECT count(*) FILTER (WHERE phone_lookup = $1 AND created_at > now() - interval '15 minutes')::int AS number_15m,
                   count(*) FILTER (WHERE phone_lookup = $1 AND created_at > now() - interval '1 hour')::int AS number_1h,
                   count(*) FILTER (WHERE phone_lookup = $1)::int AS number_1d,
                   count(*) FILTER (WHERE site_id = $2::uuid AND created_at > now() - interval '1 minute')::int AS site_1m,
                   count(*) FILTER (WHERE site_id = $2::uuid)::int AS site_1d,
                   count(DISTINCT phone_lookup) FILTER (WHERE client_address = $3 AND phone_lookup <> $1 AND created_at > now() - interval '1 hour')::int AS client_1h,
                   count(DISTINCT phone_lookup) FILTER (WHERE client_address = $3 AND phone_lookup <> $1)::int AS client_1d,
                   bool_or(client_address = $3 AND phone_lookup = $1 AND created_at > now() - interval '1 hour') AS seen_1h,
                   bool_or(client_address = $3 AND phone_lookup = $1) AS seen_1d
            FROM callbacks
            WHERE created_at > now() - interval '1 day' AND (phone_lookup = $1 OR site_id = $2::uuid OR client_address = $3)
            """, [number, site.id, client])[0]
        let limits = site.limits
        let checks: [(String, Int, Int, Int)] = [
            ("number_per_15_minutes", try row.decode("number_15m"), limits.numberPer15Minutes, 900),
            ("number_per_hour", try row.decode("number_1h"), limits.numberPerHour, 3600),
            ("number_per_day", try row.decode("number_1d"), limits.numberPerDay, 86400),
            ("site_per_minute", try row.decode("site_1m"), limits.sitePerMinute, 60),
            ("site_per_day", try row.decode("site_1d"), limits.sitePerDay, 86400),
            ("client_numbers_per_hour", try row.decodeIfPresent("seen_1h", as: Bool.self) == true ? 0 : try row.decode("client_1h"),
             limits.clientNumbersPerHour, 3600),
            ("client_numbers_per_day", try row.decodeIfPresent("seen_1d", as: Bool.self) == true ? 0 : try row.decode("client_1d"),
             limits.clientNumbersPerDay, 86400),
        ]
        // Without the sorted sets the exact wait is unknown: the whole window is the honest answer.
        if let over = checks.first(where: { $0.1 >= $0.2 }) { return .refused(limit: over.0, retryAfterSeconds: over.3) }
        return .allowed
    }
}
