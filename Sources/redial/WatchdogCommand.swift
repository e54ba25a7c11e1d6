import ArgumentParser
import Domain
import Foundation
import Hummingbird
import Logging
import PostgresClient
import Queue
import RedisClient
import ServiceLifecycle
import Settings
import UnixSignals
import Watchdog

struct WatchdogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watchdog",
        abstract: "Probe the trunks, the carrier (its API, a test call, the answer ratio), the API, Redis, PostgreSQL, the queues, "
            + "the reconciler and the callback SLA for Prometheus; "
            + "pause dialing while the carrier is down (several may run: one is active).")

    func run() async throws {
        let settings = try Environment.settings()
        let logger = Environment.bootstrapLogging()
        let registry = Environment.bootstrapMetrics()
        guard let dialQueue = Environment.catalog().first(where: { $0.type == DialArgs.jobType })?.policy.queue else {
            Environment.fail("job catalog: \(DialArgs.jobType) is missing", code: 78)
        }
        let redis = RedisPool(configuration: Environment.redisConfiguration(settings, poolSize: 4))
        let database = PostgresPool(configuration: PostgresConfiguration(url: settings.database, poolSize: 2))
        let watchdog: Watchdog
        do {
            watchdog = try Watchdog(settings: settings, redis: redis, database: database, dialQueue: dialQueue,
                                    telephony: Environment.telephony(settings), logger: logger)
        } catch {
            Environment.fail("watchdog: \(error)", code: 78)
        }
        let pager = Pager(database: database, sms: Environment.smsGateway(settings),
                          contacts: .init(primary: settings.oncallPhone, secondary: settings.oncallPhoneSecondary,
                                          escalateAfter: settings.oncallEscalateAfter * settings.timeScale),
                          logger: logger)
        let metrics = MetricsEndpoint.application(registry: registry, host: "127.0.0.1", port: settings.watchdogPort, logger: logger,
                                                  only: { watchdog.isActive ? nil : "redial_watchdog_" }) { router in
            // Alertmanager's webhook receiver for pages (deploy/alertmanager/alertmanager.yml).
            router.post("/alerts/notify") { request, _ -> Response in
                let body = try await request.body.collect(upTo: 1 << 20)
                func answer(_ status: HTTPResponse.Status, _ value: some Encodable) throws -> Response {
                    Response(status: status, headers: [.contentType: "application/json"],
                             body: .init(byteBuffer: ByteBuffer(bytes: try JSONEncoder().encode(value))))
                }
                do {
                    return try answer(.ok, try await pager.receive(Array(body.readableBytesView)))
                } catch let error as PagerError {
                    let (status, code): (HTTPResponse.Status, String) = if case .invalid = error {
                        (.badRequest, "invalid_notification")
                    } else {
                        (.serviceUnavailable, "unavailable")  // Alertmanager sends it again
                    }
                    return try answer(status, ["error": ["code": code, "message": error.description]])
                }
            }
        }
        let group = ServiceGroup(configuration: .init(services: [.init(service: watchdog), .init(service: metrics)],
                                                      gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        logger.info("watchdog: metrics on http://127.0.0.1:\(settings.watchdogPort)/metrics")
        try await group.run()
        await redis.close()
        await database.close()
    }
}
