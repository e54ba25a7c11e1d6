import Cabinet
import Console
import CryptoPrimitives
import Domain
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import PostgresClient
import Prometheus
import Providers
import Queue
import RedisClient
import Settings

/// The HTTP API (`redial serve`): callback intake for the widget, health, metrics, the widget
/// script and its demo page, and the document of it all (`/openapi.json`).
public struct APIServer: Sendable {
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        /// Peers whose `X-Forwarded-For` names the real client.
        public var trustedProxies: [NetworkRange]
        /// E.164 prefixes never called back (premium-rate and high-risk ranges).
        public var deniedPrefixes: [String]
        /// The carrier's adapter: it checks and reads the status webhooks.
        public var telephony: any TelephonyProvider
        /// Policy of `callback.outcome`, the job a webhook becomes.
        public var outcomePolicy: JobPolicy
        public var timeScale: Double
        /// `REDIAL_METRICS_PORT`: when set, `/metrics` and `/readyz`'s details (which name the
        /// failing dependency and its error) are served only on this port, on loopback, and the
        /// public port's `/readyz` says ready or not ready and nothing more.
        public var operationsPort: Int?
        /// `REDIAL_BETA_SHARE`: the share of production sites' new callbacks sent to beta.
        public var betaShare: Double = 0
        /// Seals the numbers and names intake stores; its lookup hash finds a number (`REDIAL_DATA_KEYS`, `REDIAL_LOOKUP_KEY`).
        public var dataProtection: DataProtection
        /// Where owners pay for minutes; its signed events credit the ledger. nil: no payments.
        public var payments: (any PaymentProvider)?

        public init(host: String, port: Int, trustedProxies: [NetworkRange], telephony: any TelephonyProvider, outcomePolicy: JobPolicy,
                    timeScale: Double, deniedPrefixes: [String], dataProtection: DataProtection, operationsPort: Int? = nil) {
            self.host = host
            self.port = port
            self.trustedProxies = trustedProxies
            self.telephony = telephony
            self.outcomePolicy = outcomePolicy
            self.timeScale = timeScale
            self.deniedPrefixes = deniedPrefixes
            self.dataProtection = dataProtection
            self.operationsPort = operationsPort
        }
    }

    let configuration: Configuration
    let database: PostgresPool
    let redis: RedisPool
    let registry: PrometheusCollectorRegistry
    let logger: Logger
    let console: ConsoleRoutes?
    let cabinet: CabinetRoutes?
    /// Intake's sites by key; a service of the server's group (it listens for site changes).
    public let siteKeys: SiteKeyCache

    public init(configuration: Configuration, database: PostgresPool, redis: RedisPool,
                registry: PrometheusCollectorRegistry, logger: Logger, console: ConsoleRoutes? = nil, cabinet: CabinetRoutes? = nil) {
        self.console = console
        self.cabinet = cabinet
        siteKeys = SiteKeyCache(sites: SiteStore(database: database, protection: configuration.dataProtection), logger: logger)
        self.configuration = configuration
        self.database = database
        self.redis = redis
        self.registry = registry
        self.logger = logger
    }

    /// The Redis scripts the API runs, for the script-set version.
    public static let scripts: [LuaScript] = [IntakeLimiter.script]

    public func application() -> some ApplicationProtocol {
        Application(router: router(), configuration: .init(address: .hostname(configuration.host, port: configuration.port),
                                                             serverName: "redial"), logger: logger)
    }

    /// Every route the API answers outside the console, as "METHOD /path" (`{name}` for a
    /// path parameter): what `/openapi.json` must document, no more and no less.
    public var publicRoutes: [String] {
        router().routes.map { "\($0.method) \($0.path)" }.filter { !$0.contains(" /admin") && !$0.contains(" /cabinet") }.sorted()
    }

    private func router() -> Router<APIContext> {
        let router = Router(context: APIContext.self)
        // CORS outermost, the JSON errors innermost: an error thrown by a handler becomes its JSON
        // answer before CORS sees it. The other way round, CORS wraps any error of a request with
        // an Origin (every widget request) and the answer became a bare 500.
        router.add(middleware: CORSMiddleware(
            allowOrigin: .all,
            allowHeaders: [.contentType, CallbackRoutes.siteKey, CallbackRoutes.idempotencyKey],
            allowMethods: [.get, .post, .options],
            maxAge: .seconds(3600)))
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: JSONErrorMiddleware())
        let protection = configuration.dataProtection
        CallbackRoutes(sites: siteKeys,
                       callbacks: CallbackStore(database: database, protection: protection, betaShare: configuration.betaShare),
                       limiter: IntakeLimiter(redis: redis, database: database, protection: protection), trustedProxies: configuration.trustedProxies,
                       deniedPrefixes: configuration.deniedPrefixes).add(to: router)
        TelephonyEvents(provider: configuration.telephony, jobs: JobQueue(redis: redis, timeScale: configuration.timeScale),
                        redis: redis, policy: configuration.outcomePolicy).add(to: router)
        addOperations(to: router, details: configuration.operationsPort == nil)
        if let payments = configuration.payments { PaymentEvents(provider: payments, database: database).add(to: router) }
        WidgetRoutes(sites: siteKeys).add(to: router)
        addDocument(to: router)
        let trusted = configuration.trustedProxies
        console?.add(to: router) { request, context in
            ClientAddress.resolve(peer: context.peer, forwardedFor: request.headers[CallbackRoutes.forwardedFor], trusted: trusted)
        }
        cabinet?.add(to: router)
        // Last, so it wraps only the answer for no route: it needs every route to know them.
        let served = Dictionary(grouping: router.routes, by: { $0.path.description })
            .map { (path: $0.value[0].path, methods: $0.value.map(\.method)) }
        router.add(middleware: MethodNotAllowedMiddleware(routes: served))
        return router
    }

    /// The operations port's application (`operationsPort`), on loopback; nil when unset.
    public func operationsApplication() -> (some ApplicationProtocol)? {
        guard let port = configuration.operationsPort else { return nil as Application<RouterResponder<APIContext>>? }
        let router = Router(context: APIContext.self)
        router.add(middleware: JSONErrorMiddleware())
        addOperations(to: router, details: true)
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: "redial-ops"),
                           logger: logger)
    }

    /// `/healthz`, `/readyz` and, with `details`, `/metrics` and the readiness checks' errors.
    private func addOperations<Context: RequestContext>(to router: Router<Context>, details: Bool) {
        router.get("/healthz") { _, _ in try CallbackRoutes.json(.ok, ["status": "ok"]) }
        router.get("/readyz") { _, _ in
            var checks: [String: String] = [:]
            do { try await redis.send("PING"); checks["redis"] = "ok" } catch { checks["redis"] = "\(error)" }
            do { try await database.query("SELECT 1"); checks["postgres"] = "ok" } catch { checks["postgres"] = "\(error)" }
            let ready = checks.values.allSatisfy { $0 == "ok" }
            let status = ["status": ready ? "ready" : "not_ready"]
            return try CallbackRoutes.json(ready ? .ok : .serviceUnavailable, details ? status.merging(checks) { a, _ in a } : status)
        }
        guard details else { return }
        router.get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
    }

    private func addDocument(to router: Router<APIContext>) {
        router.get("/openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "max-age=300"],
                     body: .init(byteBuffer: ByteBuffer(bytes: PackageResources.openapi_json)))
        }
    }
}
