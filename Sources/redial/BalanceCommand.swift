import ArgumentParser
import Domain
import Foundation

/// `redial balance`: a site's call minutes as its ledger (`BalanceLedger`): top-ups, promo codes,
/// the entries. Every credit has a key: the same one twice credits once.
struct BalanceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "balance", abstract: "A site's call minutes: top-ups, promo codes, the ledger.",
        subcommands: [TopUp.self, Redeem.self, Ledger.self, Promo.self])

    struct TopUp: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "top-up", abstract: "Credit a paid top-up once per payment id; a referred site's first one credits both sites.")
        @Argument(help: "The site's id.") var site: String
        @Option(help: "Minutes bought (1-1000000).") var minutes: Int
        @Option(help: "The payment's id at the payment provider (the credit's key).") var paymentID: String

        func run() async throws {
            let credited = try await Sites.withDatabase { try await BalanceLedger(database: $0).topUp(siteID: site, minutes: minutes, paymentID: paymentID) }
            print(credited ? "site \(site): \(minutes) minutes credited (payment \(paymentID))" : "payment \(paymentID) was credited before: nothing done")
        }
    }

    struct Redeem: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Redeem a promo code for a site (once per site, until it expires).")
        @Argument(help: "The site's id.") var site: String
        @Argument(help: "The code.") var code: String

        func run() async throws {
            switch try await Sites.withDatabase({ try await BalanceLedger(database: $0).redeem(siteID: site, code: code) }) {
            case .credited(let minutes): print("site \(site): \(minutes) minutes credited (\(code.uppercased()))")
            case .alreadyUsed: Environment.fail("\(code.uppercased()) was used by this site before", code: 1)
            case .expired: Environment.fail("\(code.uppercased()) has expired", code: 1)
            case .unknown: Environment.fail("no promo code \(code.prefix(40)) (or no site \(site.prefix(40)))", code: 1)
            }
        }
    }

    struct Ledger: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A site's ledger entries, oldest first, and their sum.")
        @Argument(help: "The site's id.") var site: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let entries = try await Sites.withDatabase { try await BalanceLedger(database: $0).entries(siteID: site) }
            if json {
                let rows = entries.map { ["kind": $0.kind.rawValue, "minutes": String($0.minutes), "key": $0.key, "note": $0.note ?? "", "at": $0.createdAt] }
                print(String(decoding: try JSONSerialization.data(withJSONObject: rows, options: [.sortedKeys]), as: UTF8.self))
                return
            }
            for entry in entries {
                print("\(entry.createdAt)  \(entry.kind.rawValue)  \(entry.minutes > 0 ? "+" : "")\(entry.minutes)  \(entry.key)\(entry.note.map { "  (\($0))" } ?? "")")
            }
            print("balance: \(entries.map(\.minutes).reduce(0, +)) minutes")
        }
    }

    struct Promo: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a promo code: minutes a site may claim once.")
        @Argument(help: "The code: 3-32 of A-Z, 0-9 and - (case does not matter).") var code: String
        @Option(help: "Minutes it grants (1-100000).") var minutes: Int
        @Option(help: "Last day it may be used, YYYY-MM-DD (UTC; default: never expires).") var expires: String?

        func run() async throws {
            let until = try expires.map { try Environment.endOfDay($0, option: "--expires") }
            let created = try await Sites.withDatabase { try await PromoCode(database: $0).create(code, minutes: minutes, expiresAt: until) }
            guard created else { Environment.fail("promo code \(code.uppercased()) exists", code: 1) }
            print("promo code \(code.uppercased()): \(minutes) minutes\(expires.map { ", until the end of \($0) UTC" } ?? "")")
        }
    }
}
