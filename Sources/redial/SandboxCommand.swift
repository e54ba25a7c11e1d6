import ArgumentParser
import Logging
import Sandbox
import ServiceLifecycle
import Settings
import UnixSignals

struct SandboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox",
        abstract: "Run the telephony and SMS provider simulator (magic numbers: see README.md).")

    func run() async throws {
        let settings = try Environment.settings()
        let logger = Environment.bootstrapLogging()
        let sandbox = SandboxServer(
            configuration: .init(host: settings.sandboxHost, port: settings.sandboxPort, webhookSecret: settings.telephonySecret,
                                 timeScale: settings.timeScale),
            logger: logger)
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: sandbox.application())], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        logger.info("sandbox listening on http://\(settings.sandboxHost):\(settings.sandboxPort)")
        try await group.run()
    }
}
