import ArgumentParser
import Domain
import Foundation

/// `redial announcements`: what every site owner sees in the cabinet while it is current.
struct AnnouncementsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "announcements", abstract: "Announcements shown in the owners' cabinet.",
                                                    subcommands: [Add.self, List.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Announce something to every owner, from now until a day (or until replaced).")
        @Option(help: "A title, 1-120 characters.") var title: String
        @Option(help: "The text, 1-2000 characters.") var body: String
        @Option(help: "Last day it shows, YYYY-MM-DD (UTC; default: no end).") var until: String?

        func run() async throws {
            let end = try until.map { try Environment.endOfDay($0, option: "--until") }
            let id = try await Sites.withDatabase { try await Announcements(database: $0).add(title: title, body: body, endsAt: end) }
            print("announcement \(id) shows from now\(until.map { " until the end of \($0) UTC" } ?? "")")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The announcements showing now.")

        func run() async throws {
            for item in try await Sites.withDatabase({ try await Announcements(database: $0).current() }) {
                print("\(item.id)  \(item.title)")
            }
        }
    }
}
