import API
import Cabinet
import Console
import ArgumentParser
import Domain
import Logging
import Metrics
import PostgresClient
import Prometheus
import Queue
import RedisClient
import ServiceLifecycle
import Settings
import UnixSignals

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the HTTP API: callback intake, health, metrics, the widget and its demo page.")

    func run() async throws {
        let settings = try Environment.settings()
        let logger = Environment.bootstrapLogging()
        let registry = Environment.bootstrapMetrics()
        guard let outcomePolicy = Environment.catalog().first(where: { $0.type == CallOutcomeArgs.jobType })?.policy else {
            Environment.fail("job catalog: \(CallOutcomeArgs.jobType) is missing", code: 78)
        }
        let database = PostgresPool(configuration: PostgresConfiguration(url: settings.database, poolSize: 8))
        let redis = RedisPool(configuration: Environment.redisConfiguration(settings, poolSize: 8))
        var configuration = APIServer.Configuration(
            host: settings.httpHost, port: settings.httpPort, trustedProxies: settings.trustedProxies,
            telephony: Environment.telephony(settings), outcomePolicy: outcomePolicy, timeScale: settings.timeScale,
            deniedPrefixes: settings.deniedPrefixes, dataProtection: settings.dataProtection, operationsPort: settings.metricsPort)
        configuration.betaShare = settings.betaShare
        configuration.payments = Environment.payments(settings)
        let console = try ConsoleRoutes(token: settings.adminToken, redis: redis, database: database, protection: settings.dataProtection,
                                        alertmanagerURL: settings.alertmanagerURL, prometheusURL: settings.prometheusURL, logger: logger)
        if settings.adminToken == nil { logger.info("the operations console at /admin is off: no REDIAL_ADMIN_TOKEN") }
        let cabinet = try CabinetRoutes(redis: redis, database: database, protection: settings.dataProtection, smtpURL: settings.smtpURL,
                                        mailFrom: settings.mailFrom, publicURL: settings.publicURL,
                                        storage: Environment.objectStorage(settings), recordingMaxBytes: settings.recordingMaxBytes,
                                        payments: configuration.payments, logger: logger)
        let server = APIServer(configuration: configuration, database: database, redis: redis, registry: registry, logger: logger,
                               console: console, cabinet: cabinet)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: server.application()), .init(service: server.siteKeys)]
        if let operations = server.operationsApplication() {
            services.append(.init(service: operations))
            logger.info("metrics and readiness details on http://127.0.0.1:\(settings.metricsPort ?? 0)")
        }
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        logger.info("API listening on http://\(settings.httpHost):\(settings.httpPort)")
        try await group.run()
        await redis.close()
        await database.close()
    }
}
