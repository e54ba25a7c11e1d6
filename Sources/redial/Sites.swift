import ArgumentParser
import Domain
import Foundation
import PostgresClient
import Settings

struct Sites: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create and list customer sites.",
                                                    subcommands: [Add.self, List.self, Channel.self, Widget.self, RotateKey.self, RevokePreviousKey.self])

    static func withStore<T>(_ body: (SiteStore) async throws -> T) async throws -> T {
        let settings = try Environment.settings()
        let database = PostgresPool(configuration: PostgresConfiguration(url: settings.database, poolSize: 1))
        do {
            let result = try await body(SiteStore(database: database, protection: settings.dataProtection))
            await database.close()
            return result
        } catch let error as DomainError {
            await database.close()
            Environment.fail(error.message, code: 65)
        } catch {
            await database.close()
            Environment.fail("\(error)")
        }
    }

    /// The database, for commands about sites' data beyond the sites themselves (balance, announcements).
    static func withDatabase<T>(_ body: (PostgresPool) async throws -> T) async throws -> T {
        try await withStore { store in try await body(store.database) }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a site; prints its id and site key (shown only now).")

        @Option(help: "Site name.") var name: String
        @Option(help: "Manager phone, E.164; repeat for several, rung in order.") var manager: [String]
        @Option(help: "IANA time zone of the site's working hours.") var timezone = "UTC"
        @Option(help: "Working hours HH:MM-HH:MM (every day unless --days).") var hours: String?
        @Option(help: "ISO weekdays the hours apply to, e.g. 1-5 or 1,2,3 (1 = Monday).") var days: String?
        @Option(help: "Call minutes the site may spend.") var balanceMinutes = 0
        @Option(help: "Where owner and manager emails go.") var email: String?
        @Option(help: "Language of messages: ru or en.") var language = "en"
        @Option(help: "Calling code for numbers typed without one (7: 8 (916) … is accepted).") var defaultCountry: String?
        @Option(help: "Comma-separated calling codes the site serves, or 'all' (default: the --default-country only, else all not denied).")
        var serves: String?
        @Option(help: "An origin the site's widget runs on, e.g. https://shop.example; repeat for several (default: any).")
        var origin: [String] = []
        @Option(help: "The owner's phone, E.164, for low-balance SMS (default: the first manager).") var ownerPhone: String?
        @Option(help: "Comma-separated balance levels (minutes) that warn the owner when a call crosses them.")
        var lowBalance = "60,10"
        @Option(help: "Days call recordings are kept.") var recordingRetentionDays = 90
        @Option(help: "Days callbacks and all about them are kept (30-3650); daily counts stay.") var dataRetentionDays = 365
        @Option(help: "The id of the site that referred this one (both are credited at its first top-up).") var referredBy: String?
        @Option(help: "An abuse limit of its own, NAME=N (e.g. site_per_minute=600); repeat for several.") var limit: [String] = []
        @Flag(help: "Its callbacks go to the beta release channel (beta workers only).") var beta = false
        @Flag(help: "Print {\"id\", \"site_key\"} as JSON.") var json = false

        func run() async throws {
            var new = SiteStore.NewSite(name: name, managers: manager)
            new.timeZone = timezone
            new.balanceMinutes = balanceMinutes
            new.email = email
            new.language = language
            new.defaultCountryCode = defaultCountry
            new.servedCountryCodes = serves.map { $0 == "all" ? [] : $0.split(separator: ",").map(String.init) }
            new.allowedOrigins = origin
            new.ownerPhone = ownerPhone
            new.recordingRetentionDays = recordingRetentionDays
            new.dataRetentionDays = dataRetentionDays
            new.beta = beta
            new.referredBy = referredBy
            do throws(DomainError) {
                new.lowBalanceThresholds = try lowBalance.split(separator: ",").map { part throws(DomainError) in
                    guard let minutes = Int(part.trimmingCharacters(in: .whitespaces)) else {
                        throw DomainError(.invalid, "low-balance: expected comma-separated minutes such as 60,10, got '\(lowBalance)'",
                                          field: "low-balance")
                    }
                    return minutes
                }
                if let hours { new.hours = try WorkingHours(parsing: hours, days: try Self.parseDays(days)) }
                for entry in limit {
                    let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
                    guard parts.count == 2, let value = Int(parts[1]) else {
                        throw DomainError(.invalid, "limit: expected NAME=N such as site_per_minute=600, got '\(entry)'", field: "limit")
                    }
                    new.limits[parts[0]] = value
                }
            } catch {
                Environment.fail(error.message, code: 64)
            }
            let (site, key) = try await withStore { try await $0.create(new) }
            if json {
                print(#"{"id": "\#(site.id)", "site_key": "\#(key)"}"#)
            } else {
                print("site \(site.id) created; its key (shown only now): \(key)")
            }
        }

        static func parseDays(_ text: String?) throws(DomainError) -> [Int] {
            guard let text else { return Array(1...7) }
            var days: [Int] = []
            for part in text.split(separator: ",") {
                let bounds = part.split(separator: "-").map { Int($0) }
                switch bounds.count {
                case 1 where bounds[0] != nil: days.append(bounds[0]!)
                case 2 where bounds[0] != nil && bounds[1] != nil && bounds[0]! <= bounds[1]!: days += Array(bounds[0]!...bounds[1]!)
                default: throw DomainError(.invalid, "days: expected e.g. 1-5 or 1,3,5, got '\(text)'", field: "days")
                }
            }
            return days
        }
    }

    struct Channel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send a site's new callbacks to the beta release channel, or back to production.")

        @Argument(help: "The site's id.") var site: String
        @Argument(help: "production or beta.") var channel: String

        func run() async throws {
            guard ["production", "beta"].contains(channel) else { Environment.fail("channel: expected production or beta, got '\(channel)'", code: 64) }
            let settings = try Environment.settings()
            let database = PostgresPool(configuration: PostgresConfiguration(url: settings.database, poolSize: 1))
            defer { Task { await database.close() } }
            guard try await SiteStore(database: database, protection: settings.dataProtection).setChannel(id: site, beta: channel == "beta") else {
                Environment.fail("no site \(site)", code: 1)
            }
            print("site \(site): new callbacks go to \(channel)")
        }
    }

    struct Widget: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change how a site's widget looks and behaves; prints its settings (unchanged ones kept).")

        @Argument(help: "The site's id.") var site: String
        @Option(help: "The button's and the form's colour, #rrggbb.") var color: String?
        @Option(help: "The corner it sits in: right or left.") var position: String?
        @Option(help: "The button's text instead of the language's own (1-40 characters; \"\" for the default).") var buttonText: String?
        @Option(help: "Seconds after the page loads when the form opens by itself (1-600; 0: never).") var openAfter: Int?

        func run() async throws {
            let settings = try await withStore { store -> WidgetSettings? in
                guard var settings = try await store.find(id: site)?.widget else { return nil }
                if let color { settings.color = color }
                if let position {
                    guard let corner = WidgetSettings.Position(rawValue: position) else {
                        throw DomainError(.invalid, "position: expected right or left, got '\(position.prefix(20))'", field: "position")
                    }
                    settings.position = corner
                }
                if let buttonText { settings.buttonText = buttonText.isEmpty ? nil : buttonText }
                if let openAfter { settings.openAfterSeconds = openAfter == 0 ? nil : openAfter }
                return try await store.setWidget(id: site, settings) ? settings : nil
            }
            guard let settings else { Environment.fail("no site \(site)", code: 1) }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(settings), as: UTF8.self))
        }
    }

    struct RotateKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-key",
            abstract: "Give a site a new key (shown only now); the old one works until the grace period ends.")

        @Argument(help: "The site's id.") var site: String
        @Option(help: "How long the old key keeps working: now, or 30m, 24h, 7d (at most 30d).") var grace = "24h"
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let length = grace == "now" ? .zero : try Environment.duration(grace, option: "--grace", range: 1...30 * 86_400)
            guard let rotated = try await withStore({ try await $0.rotateKey(id: site, grace: length) }) else {
                Environment.fail("no site \(site)", code: 1)
            }
            if json {
                let object = ["site_id": site, "site_key": rotated.key, "old_key_expires_at": rotated.oldKeyExpires]
                print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
            } else {
                print("site \(site): new key \(rotated.key) (shown only now); the old key works until \(rotated.oldKeyExpires)")
            }
        }
    }

    struct RevokePreviousKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "revoke-previous-key", abstract: "Stop the key a site had before its last rotation, now.")

        @Argument(help: "The site's id.") var site: String

        func run() async throws {
            guard try await withStore({ try await $0.revokePreviousKey(id: site) }) else {
                Environment.fail("site \(site) has no previous key still working (or no such site)", code: 1)
            }
            print("site \(site): the previous key no longer works")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List sites.")
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let sites = try await withStore { try await $0.list() }
            if json {
                let rows = sites.map { ["id": $0.id, "name": $0.name, "timezone": $0.timeZone.identifier,
                                        "balance_minutes": String($0.balanceMinutes), "managers": $0.managers.joined(separator: ",")] }
                print(String(decoding: try JSONSerialization.data(withJSONObject: rows, options: [.sortedKeys]), as: UTF8.self))
                return
            }
            for site in sites {
                print("\(site.id)  \(site.name)  \(site.timeZone.identifier)  \(site.balanceMinutes) min  \(site.managers.joined(separator: ", "))\(site.active ? "" : "  (inactive)")")
            }
        }
    }
}
