import ArgumentParser
import Domain
import Jobs
import Logging
import PostgresClient
import Queue
import RedisClient
import Relay
import ServiceLifecycle
import Settings
import UnixSignals

struct RelayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "relay",
        abstract: "Move accepted callbacks from the PostgreSQL outbox into the queue, and re-enqueue stuck ones (safe to run several).")

    func run() async throws {
        let settings = try Environment.settings()
        let logger = Environment.bootstrapLogging()
        let definitions = Environment.catalog()
        let database = PostgresPool(configuration: PostgresConfiguration(url: settings.database, poolSize: 2))
        let redis = RedisPool(configuration: Environment.redisConfiguration(settings, poolSize: 2))
        let jobs = JobQueue(redis: redis, timeScale: settings.timeScale)
        let policies = Dictionary(definitions.map { ($0.type, $0.policy) }, uniquingKeysWith: { a, _ in a })
        let relay = OutboxRelay(database: database, jobs: jobs, policies: policies, logger: logger)
        let reconciler = Reconciler(database: database, jobs: jobs, policies: policies, logger: logger,
                                    interval: .seconds(30) * settings.timeScale, staleAfter: .seconds(120) * settings.timeScale)
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: relay), .init(service: reconciler)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        logger.info("outbox relay and reconciler started")
        try await group.run()
        await redis.close()
        await database.close()
    }
}
