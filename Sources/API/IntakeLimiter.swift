import Domain
import Queue
import RedisClient

/// The abuse limits of callback intake, checked and counted atomically in Redis
/// (`checkIntakeLimits.lua`). If Redis is unreachable the limiter lets requests through: intake
/// must keep accepting callbacks while Redis is down, and PostgreSQL still records them.
struct IntakeLimiter: Sendable {
    let redis: RedisPool

    static let script = RedisScript(name: "checkIntakeLimits",
                                    source: String(decoding: PackageResources.checkIntakeLimits_lua, as: UTF8.self))

    enum Verdict: Equatable {
        case allowed
        case refused(limit: String, retryAfterSeconds: Int)
        /// Redis could not be asked; the request is let through.
        case unchecked
    }

    func check(site: Site, phone: PhoneNumber, client: String) async -> Verdict {
        let tag = "redial:{site:\(site.id)}:limit:"
        let limits = site.limits
        do {
            let reply = try await redis.run(Self.script, keys: [tag + "number:" + phone.e164, tag + "client:" + client, tag + "site"],
                                            arguments: [JobID.make(), phone.e164, limits.numberPer15Minutes, limits.numberPerHour,
                                                        limits.numberPerDay, limits.clientNumbersPerHour, limits.clientNumbersPerDay,
                                                        limits.sitePerMinute, limits.sitePerDay])
            guard let items = reply.array, let code = items.first?.int else { return .unchecked }
            if code == 0 { return .allowed }
            let wait = items.count > 2 ? items[2].int ?? 1000 : 1000
            return .refused(limit: items.count > 1 ? items[1].string ?? "limit" : "limit", retryAfterSeconds: max(1, (wait + 999) / 1000))
        } catch {
            return .unchecked
        }
    }
}
