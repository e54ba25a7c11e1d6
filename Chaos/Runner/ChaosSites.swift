import CryptoPrimitives
import Domain
import Foundation
import PostgresClient

/// The sites a chaos run posts to: as a customer would have them, with the shipped abuse limits
/// and real working hours, not limits of a million. Several open sites share the load, each
/// under the per-site rate limit (60 a minute); one more site is closed for the whole run, and
/// its callbacks must wait (`scheduled`) without a single ring.
struct ChaosSites: Sendable {
    /// Site keys of the open sites, and of the closed one.
    let openKeys: [String]
    let closedKey: String
    let openIDs: [String]
    let closedID: String
    /// Every open site starts with this balance (the checker accounts for every minute of it).
    static let balance = 1_000_000

    /// Enough open sites for `rate` requests a second to stay at 40 a minute or fewer per site.
    static func make(database: PostgresPool, rate: Double) async throws -> ChaosSites {
        let count = max(2, Int((rate * 60 / 40).rounded(.up)))
        // A zone where it is about midday now, so "08:00-18:00" is open for the run (and
        // "20:00-22:00" closed) whatever the hour of the machine: Etc/GMT-N is UTC+N.
        let hour = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: Date()).hour ?? 12
        let offset = max(-12, min(12, 12 - hour))
        let zone = offset >= 0 ? "Etc/GMT-\(offset)" : "Etc/GMT+\(-offset)"
        // The processes it starts run with the development keys, as these tests do.
        let store = SiteStore(database: database, protection: .development)
        func site(_ name: String, hours: String) async throws -> (Site, String) {
            var new = SiteStore.NewSite(name: "chaos \(name) \(Date())", managers: ["+79990000001", "+79990000008"])
            new.balanceMinutes = balance
            new.defaultCountryCode = "7"
            new.timeZone = zone
            new.hours = try WorkingHours(parsing: hours)
            return try await store.create(new)
        }
        var open: [(Site, String)] = []
        for index in 0..<count { open.append(try await site("open-\(index)", hours: "08:00-18:00")) }
        let closed = try await site("closed", hours: "20:00-22:00")
        return ChaosSites(openKeys: open.map(\.1), closedKey: closed.1, openIDs: open.map(\.0.id), closedID: closed.0.id)
    }

    /// The open sites' ids as the JSON array the checker's queries take.
    var openIDsJSON: String { String(decoding: (try? JSONSerialization.data(withJSONObject: openIDs)) ?? Data("[]".utf8), as: UTF8.self) }
}
