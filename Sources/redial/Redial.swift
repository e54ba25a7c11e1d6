import ArgumentParser

@main
struct Redial: AsyncParsableCommand {
    /// The product's version, announced by every worker (`redial stats`); raised with each release.
    static let version = "0.13.0"

    static let configuration = CommandConfiguration(
        commandName: "redial",
        abstract: "Redial: a reliability-first job-queue cluster behind a \"call me back\" widget.",
        discussion: "Configuration comes from REDIAL_* environment variables (see README.md).",
        version: Redial.version,
        subcommands: [Up.self, Serve.self, Work.self, RelayCommand.self, WatchdogCommand.self, SandboxCommand.self, Sites.self, Enqueue.self, Stats.self, JobsCommand.self, QueuesCommand.self, AlertsCommand.self, ReleaseCommand.self, DataCommand.self, BalanceCommand.self, AnnouncementsCommand.self, Migrate.self])
}
