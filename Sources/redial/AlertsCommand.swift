import ArgumentParser
import Domain
import Foundation
import PostgresClient
import Providers
import Settings

struct AlertsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alerts",
        abstract: "The alerts Alertmanager holds: list them, acknowledge one, silence by labels (Alertmanager's API v2).",
        subcommands: [List.self, Ack.self, Silence.self])

    static func alertmanager() throws -> Alertmanager {
        Alertmanager(baseURL: try Environment.settings().alertmanagerURL)
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the alerts: firing, silenced, inhibited.")
        @Flag(help: "Print JSON: [{\"id\", \"name\", \"state\", \"labels\", \"since\", \"summary\"}].") var json = false

        func run() async throws {
            let alerts: [Alertmanager.Alert]
            do { alerts = try await alertmanager().alerts() } catch { Environment.fail("\(error)") }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                print(String(decoding: try encoder.encode(alerts), as: UTF8.self))
                return
            }
            if alerts.isEmpty { print("no alerts") }
            for alert in alerts {
                print("\(alert.id)  \(alert.state.padding(10))\(alert.name.padding(16))since \(alert.since)  \(alert.summary ?? "")")
            }
        }
    }

    struct Ack: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Acknowledge an alert: its SMS pages stop (no repeat, no escalation); its resolution is still sent.")
        @Argument(help: "The alert's id (from `redial alerts list`, and in every page).") var id: String

        func run() async throws {
            let settings = try Environment.settings()
            let database = PostgresPool(configuration: PostgresConfiguration(url: settings.database, poolSize: 1))
            do {
                guard let alert = try await Alertmanager(baseURL: settings.alertmanagerURL).alerts().first(where: { $0.id == id }) else {
                    throw AlertingError("no alert \(id) (redial alerts list shows their ids)")
                }
                try await PageAcks(database: database).acknowledge(fingerprint: id, by: Environment.operatorName)
                await database.close()
                print("acknowledged \(alert.name) (\(id)): no more pages for it until it resolves")
            } catch {
                await database.close()
                Environment.fail("\(error)")
            }
        }
    }

    struct Silence: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Silence the alerts whose labels match (e.g. alertname=TrunkDown target=edge).")
        @Argument(help: "Matchers: name=value, name!=value, name=~regex, name!~regex.") var matchers: [String]
        @Option(name: .customLong("for"), help: "How long: 30m, 2h, 1d.") var duration: String
        @Option(help: "Why, kept with the silence.") var comment = "silenced from the command line"

        func run() async throws {
            let length = try Environment.duration(duration, option: "--for", range: 60...30 * 86_400)
            let parsed: [Alertmanager.Matcher]
            do { parsed = try matchers.map { text throws(AlertingError) in try Alertmanager.Matcher(parsing: text) } } catch {
                throw ValidationError("\(error)")
            }
            guard !parsed.isEmpty else { throw ValidationError("give at least one matcher") }
            do {
                let id = try await alertmanager().silence(parsed, for: length, by: Environment.operatorName, comment: comment)
                print("silenced \(matchers.joined(separator: " ")) for \(duration): silence \(id)")
            } catch {
                Environment.fail("\(error)")
            }
        }
    }
}
