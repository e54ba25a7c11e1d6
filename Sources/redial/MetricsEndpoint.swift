import Hummingbird
import Logging
import Prometheus

/// `GET /metrics` for a process that serves no public HTTP (a worker, the watchdog): the
/// Prometheus text of the registry its swift-metrics were bootstrapped with, and whatever else
/// `routes` adds. Loopback unless told otherwise.
enum MetricsEndpoint {
    /// - Parameter only: while it answers a prefix, only the families named with it are served
    ///   (a standby watchdog's: its own state, not its frozen probe figures).
    static func application(registry: PrometheusCollectorRegistry, host: String, port: Int, logger: Logger,
                            only: @escaping @Sendable () -> String? = { nil },
                            routes: (Router<BasicRequestContext>) -> Void = { _ in }) -> some ApplicationProtocol {
        let router = Router()
        routes(router)
        router.get("/metrics") { _, _ in
            var text = registry.emitToBuffer()
            if let prefix = only() { text = filter(text, prefix: prefix) }
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(bytes: text)))
        }
        return Application(router: router, configuration: .init(address: .hostname(host, port: port), serverName: "redial-worker"),
                           logger: logger)
    }

    /// The lines of Prometheus text whose metric (for `# HELP`/`# TYPE`, the one they describe)
    /// starts with `prefix`.
    static func filter(_ text: [UInt8], prefix: String) -> [UInt8] {
        var kept: [UInt8] = []
        for line in text.split(separator: UInt8(ascii: "\n")) {
            let name = line.starts(with: Array("# ".utf8)) ? line.split(separator: UInt8(ascii: " ")).dropFirst(2).first : line[...]
            if let name, name.starts(with: Array(prefix.utf8)) {
                kept += line
                kept.append(UInt8(ascii: "\n"))
            }
        }
        return kept
    }
}
