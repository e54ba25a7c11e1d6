import API
import ArgumentParser
import Foundation
import Domain
import HTTPClient
import Jobs
import Logging
import PostgresClient
import Metrics
import Prometheus
import Providers
import Queue
import RedisClient
import Settings
import Watchdog

enum Environment {
    /// The process settings, or an exit with every configuration problem listed.
    static func settings() throws -> RedialSettings {
        do {
            return try RedialSettings(environment: ProcessInfo.processInfo.environment)
        } catch {
            fail("\(error)", code: 78)  // EX_CONFIG
        }
    }

    static func redisConfiguration(_ settings: RedialSettings, poolSize: Int = 4) -> RedisConfiguration {
        var configuration = RedisConfiguration(url: settings.redis, poolSize: poolSize)
        (configuration.replicas, configuration.replicaTimeout) = settings.redisWait
        return configuration
    }

    /// Log lines to stderr; `REDIAL_LOG_LEVEL` (trace…critical) sets the level, default info.
    static func bootstrapLogging() -> Logger {
        let level = ProcessInfo.processInfo.environment["REDIAL_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        return Logger(label: "redial")
    }

    /// Metrics go to a Prometheus registry that `GET /metrics` renders.
    static func bootstrapMetrics() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }

    /// The job catalog, validated, or an exit naming the bad file. With `services`, the callback
    /// jobs can run.
    static func catalog(services: JobServices? = nil) -> [JobDefinition] {
        do {
            return try Catalog.load(services: services)
        } catch {
            fail("job catalog: \(error)", code: 78)
        }
    }

    /// What callback jobs need: PostgreSQL (connected on first use), the telephony provider, the queue.
    static func jobServices(_ settings: RedialSettings) -> JobServices {
        do {
            let flow = CallbackFlow(
                database: PostgresPool(configuration: PostgresConfiguration(url: settings.database, poolSize: 4)),
                provider: telephony(settings),
                policies: try Catalog.outcomePolicies(),
                // The carrier's webhooks come back to this process's channel (beta dials, beta handles the outcome).
                webhookURL: settings.publicURL + "/v1/telephony/events" + (settings.channel == "production" ? "" : "?channel=\(settings.channel)"),
                protection: settings.dataProtection,
                timeScale: settings.timeScale,
                unsafeWithoutLedger: settings.unsafeDialWithoutLedger)
            let redis = RedisPool(configuration: redisConfiguration(settings, poolSize: 4))
            // Follow-up jobs stay on the channel of the worker that runs them.
            let jobs = JobQueue(redis: redis, timeScale: settings.timeScale, channel: WorkerRelease.Channel(rawValue: settings.channel) ?? .production)
            let throttle = RecipientThrottle(redis: redis, limit: settings.emailPerRecipient.limit,
                                             window: .seconds(settings.emailPerRecipient.windowSeconds), protection: settings.dataProtection)
            var services = JobServices(flow: flow, jobs: jobs, policies: try Catalog.policies(), sms: smsGateway(settings),
                                       smtp: SMTPClient(url: settings.smtpURL), mailFrom: settings.mailFrom, messages: try Messages.load(),
                                       emailThrottle: throttle,
                                       recordings: .init(storage: objectStorage(settings), maxBytes: settings.recordingMaxBytes,
                                                         allowedHosts: settings.recordingHosts),
                                       reports: try ReportTemplates.load())
            services.dialFailureShare = settings.unsafeDialFailureShare
            return services
        } catch {
            fail("job catalog: \(error)", code: 78)
        }
    }

    /// The carrier's adapter `REDIAL_PROVIDER` names.
    static func telephony(_ settings: RedialSettings) -> any TelephonyProvider {
        switch settings.provider {
        case .sandbox:
            SandboxTelephony(baseURL: settings.telephonyURL, webhookSecret: settings.telephonySecret,
                             previousWebhookSecret: settings.previousTelephonySecret, originateTimeout: settings.telephonyTimeout)
        }
    }

    /// The payment provider's adapter `REDIAL_PROVIDER` names: the sandbox's payments are served
    /// by the same simulator as its calls, and signed with the same secret.
    static func payments(_ settings: RedialSettings) -> any PaymentProvider {
        switch settings.provider {
        case .sandbox:
            SandboxPayments(baseURL: settings.telephonyURL, webhookSecret: settings.telephonySecret,
                            previousWebhookSecret: settings.previousTelephonySecret)
        }
    }

    /// The SMS gateway's adapter `REDIAL_PROVIDER` names.
    static func smsGateway(_ settings: RedialSettings) -> any SMSGateway {
        switch settings.provider {
        case .sandbox: SandboxSMS(baseURL: settings.smsURL)
        }
    }

    /// The bucket recordings go to. Without `REDIAL_S3_KEY`/`SECRET` (a local store that does not
    /// check them) requests are still signed, with placeholder credentials.
    static func objectStorage(_ settings: RedialSettings) -> any ObjectStorage {
        S3ObjectStorage(baseURL: settings.s3URL, bucket: settings.s3Bucket, region: settings.s3Region,
                      accessKey: settings.s3Key ?? "redial-local", secretKey: settings.s3Secret ?? "redial-local-secret",
                      partBytes: settings.s3PartBytes)
    }

    /// Runs `body` with a job queue, closing the connection and turning errors into one line.
    static func withQueue<T>(_ body: (JobQueue) async throws -> T) async throws -> T {
        let settings = try Environment.settings()
        let pool = RedisPool(configuration: Environment.redisConfiguration(settings, poolSize: 2))
        do {
            let result = try await body(JobQueue(redis: pool, timeScale: settings.timeScale))
            await pool.close()
            return result
        } catch {
            await pool.close()
            Environment.fail("\(error)")
        }
    }

    /// Every Redis script this build runs: the engine's, the API's, the jobs'.
    static let scripts: [LuaScript] = QueueScripts.all.map(\.lua) + APIServer.scripts + Catalog.scripts + Watchdog.scripts

    /// What this process runs, as a worker announces it: the version, the build and the scripts.
    static func release() -> WorkerRelease {
        WorkerRelease(version: Redial.version, build: BuildIdentity.current, scripts: ScriptSet.version(of: scripts))
    }

    /// "YYYY-MM-DD" → the end of that day, UTC (the moment a thing valid "until" then stops), or
    /// an error naming `option`.
    static func endOfDay(_ text: String, option: String) throws -> Date {
        let format = DateFormatter()
        format.dateFormat = "yyyy-MM-dd"
        format.timeZone = TimeZone(identifier: "UTC")
        format.locale = Locale(identifier: "en_US_POSIX")
        guard let day = format.date(from: text) else { throw ValidationError("\(option): expected YYYY-MM-DD, got '\(text.prefix(20))'") }
        return day.addingTimeInterval(86_400)
    }

    /// "30m", "2h", "1d", "90s" → a duration within `range` (seconds), or an error naming `option`.
    static func duration(_ text: String, option: String, range: ClosedRange<Int64>) throws -> Duration {
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        guard let unit = text.last.flatMap({ units[$0] }), let count = Int64(text.dropLast()), count > 0, range.contains(count * unit) else {
            throw ValidationError("\(option): expected a duration such as 30m, 2h or 1d (\(range.lowerBound) s to \(range.upperBound / 86_400) days), got '\(text)'")
        }
        return .seconds(count * unit)
    }

    /// Who runs this command, for what it records (a silence's author): `$SUDO_USER`, `$USER`, or the host.
    static var operatorName: String {
        let environment = ProcessInfo.processInfo.environment
        return (environment["SUDO_USER"] ?? environment["USER"] ?? "operator") + "@" + ProcessInfo.processInfo.hostName
    }

    /// Prints `redial: message` to stderr and exits with `code`.
    static func fail(_ message: String, code: Int32 = 1) -> Never {
        FileHandle.standardError.write(Data("redial: \(message)\n".utf8))
        Foundation.exit(code)
    }
}
