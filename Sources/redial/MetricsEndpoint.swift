import Hummingbird
import Logging
import Prometheus

/// `GET /metrics` for a process that serves no public HTTP (a worker, the watchdog): the
/// Prometheus text of the registry its swift-metrics were bootstrapped with, and whatever else
/// `routes` adds. Loopback unless told otherwise.
enum MetricsEndpoint {
    static func application(registry: PrometheusCollectorRegistry, host: String, port: Int, logger: Logger,
                            routes: (Router<BasicRequestContext>) -> Void = { _ in }) -> some ApplicationProtocol {
        let router = Router()
        routes(router)
        router.get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
        return Application(router: router, configuration: .init(address: .hostname(host, port: port), serverName: "redial-worker"),
                           logger: logger)
    }
}
