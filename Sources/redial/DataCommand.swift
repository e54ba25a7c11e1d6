import ArgumentParser
import Jobs

struct DataCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Personal data at rest: seal it again under the first key of REDIAL_DATA_KEYS.",
        subcommands: [Reseal.self])

    struct Reseal: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Seal again, now, what an older key sealed (PostgreSQL rows and queued notifications); the nightly "
                + "data.reseal job does the same. Safe beside running workers. Then the old key can leave REDIAL_DATA_KEYS.")

        func run() async throws {
            let settings = try Environment.settings()
            let services = Environment.jobServices(settings)
            do {
                print(try await Catalog.resealPersonalData(services))
            } catch {
                Environment.fail("data reseal: \(error)")
            }
        }
    }
}
