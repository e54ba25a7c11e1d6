import ArgumentParser
import Foundation
import Logging
import Settings

struct Up: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the whole cluster: API, outbox relay, N workers, the watchdog, the telephony sandbox; restart any that dies.")

    @Option(help: "Worker processes.") var workers = 2
    @Option(help: "Handler slots per queue in each worker.") var concurrency = 10
    @Flag(help: "Do not start the telephony sandbox (a real provider is configured).") var noSandbox = false

    func validate() throws {
        guard (1...64).contains(workers) else { throw ValidationError("--workers: expected 1-64, got \(workers)") }
    }

    func run() async throws {
        let settings = try Environment.settings()
        let logger = Environment.bootstrapLogging()
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        // The watchdog expects as many live workers as this starts (unless told otherwise).
        setenv("REDIAL_EXPECTED_WORKERS", String(workers), 0)
        var components: [Supervisor.Component] = [
            .init(name: "api", arguments: ["serve"]),
            .init(name: "relay", arguments: ["relay"]),
            .init(name: "watchdog", arguments: ["watchdog"]),
        ]
        components += (1...workers).map { .init(name: "worker-\($0)", arguments: ["work", "--concurrency", String(concurrency)]) }
        if !noSandbox { components.append(.init(name: "sandbox", arguments: ["sandbox"])) }
        logger.info("redial up: \(components.map(\.name).joined(separator: ", ")); API on http://\(settings.httpHost):\(settings.httpPort)")
        await Supervisor(executable: executable, components: components, grace: .seconds(30), logger: logger).run()
        logger.info("redial up: stopped")
    }
}
