import ArgumentParser
import Domain
import Jobs
import Logging
import PostgresClient
import Queue
import RedisClient
import ServiceLifecycle
import UnixSignals
import Settings

struct Work: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a worker: fetch and run jobs until SIGTERM/SIGINT, then drain gracefully.")

    @Option(help: "Comma-separated queues to serve (default: every queue in the job catalog).")
    var queues: String?

    @Option(help: "Release channel: production or beta (default REDIAL_CHANNEL, else production); beta serves the queues' beta copies (callbacks@beta).")
    var channel: String?

    @Option(help: "Handler slots per queue.")
    var concurrency = WorkerConfiguration.defaultConcurrency

    @Option(help: "Dead jobs kept per queue, the newest; older ones are deleted.")
    var deadKeep = WorkerConfiguration.defaultDeadKeep

    @Option(help: "Days a dead job is kept at most.")
    var deadRetentionDays: Double = Double(WorkerConfiguration.defaultDeadRetention.components.seconds) / 86_400

    @Option(help: "Hours a job of a type this worker does not know is handed back (for a newer worker) before it goes dead.")
    var unknownTypeHours: Double = Double(WorkerConfiguration.defaultUnknownTypeBound.components.seconds) / 3600

    @Option(help: "Serve the worker's metrics as Prometheus text at http://127.0.0.1:<port>/metrics.")
    var metricsPort: Int?

    @Option(help: "Seconds in-flight jobs may run on after SIGTERM before they are handed back.")
    var shutdownGrace: Double = Double(WorkerConfiguration.defaultShutdownGrace.components.seconds)

    func run() async throws {
        var settings = try Environment.settings()
        if let channel { settings.channel = channel }
        guard let release = WorkerRelease.Channel(rawValue: settings.channel) else {
            Environment.fail("--channel: expected production or beta, got '\(settings.channel)'", code: 64)
        }
        let logger = Environment.bootstrapLogging()
        let definitions = Environment.catalog(services: Environment.jobServices(settings))
        let names = (queues.map { $0.split(separator: ",").map(String.init) } ?? Array(Set(definitions.map(\.policy.queue))).sorted())
            .map(release.queue)
        guard shutdownGrace >= 0, shutdownGrace.isFinite else {
            Environment.fail("--shutdown-grace: expected seconds ≥ 0, got \(shutdownGrace)", code: 64)
        }
        guard deadKeep >= 0 else { Environment.fail("--dead-keep: expected a count ≥ 0, got \(deadKeep)", code: 64) }
        guard deadRetentionDays > 0, deadRetentionDays.isFinite, deadRetentionDays <= 36_500 else {
            Environment.fail("--dead-retention-days: expected days > 0 (at most 36500), got \(deadRetentionDays)", code: 64)
        }
        guard unknownTypeHours > 0, unknownTypeHours.isFinite, unknownTypeHours <= 24 * 365 else {
            Environment.fail("--unknown-type-hours: expected hours > 0 (at most 8760), got \(unknownTypeHours)", code: 64)
        }
        var configuration = WorkerConfiguration(
            concurrency: Dictionary(names.map { ($0, concurrency) }, uniquingKeysWith: { a, _ in a }),
            shutdownGrace: .milliseconds(Int64(shutdownGrace * 1000)),
            deadKeep: deadKeep,
            deadRetention: .milliseconds(Int64(deadRetentionDays * 86_400_000)),
            unknownTypeBound: .milliseconds(Int64(unknownTypeHours * 3_600_000)),
            timeScale: settings.timeScale,
            production: settings.mode == .production)
        configuration.scripts = Environment.scripts
        configuration.release = Environment.release()
        configuration.release.channel = release
        configuration.release.schema = (try? Schema.migrations())?.last?.version
        do {
            try configuration.validate()
        } catch {
            Environment.fail("\(error.message)", code: 64)
        }
        let worker = Worker(configuration: configuration, redis: Environment.redisConfiguration(settings),
                            definitions: definitions, logger: logger)
        let schedules: [PeriodicSchedule]
        do {
            schedules = try Schedules.load(definitions: definitions, extraFile: settings.schedulesFile)
        } catch {
            Environment.fail("periodic schedules: \(error)", code: 78)
        }
        let periodic = PeriodicScheduler(
            schedules: schedules, jobs: JobQueue(redis: RedisPool(configuration: Environment.redisConfiguration(settings, poolSize: 1))),
            logger: logger)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: worker, successTerminationBehavior: .gracefullyShutdownGroup),
            .init(service: periodic, successTerminationBehavior: .ignore),
        ]
        if let metricsPort {
            guard (1...65535).contains(metricsPort) else { Environment.fail("--metrics-port: expected 1-65535, got \(metricsPort)", code: 64) }
            let registry = Environment.bootstrapMetrics()
            services.append(.init(service: MetricsEndpoint.application(registry: registry, host: "127.0.0.1", port: metricsPort, logger: logger)))
        }
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
