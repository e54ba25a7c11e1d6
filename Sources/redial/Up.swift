import ArgumentParser
import Foundation
import Logging
import PostgresClient
import Queue
import RedisClient
import ReleaseGate
import Settings

struct Up: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the whole cluster: API, outbox relay, N workers, the watchdog, the telephony sandbox; restart any that dies.")

    @Option(help: "Worker processes.") var workers = 2
    @Option(help: "Handler slots per queue in each worker.") var concurrency = 10
    @Flag(help: "Do not start the telephony sandbox (a real provider is configured).") var noSandbox = false
    @Option(help: "production (default: the whole cluster) or beta (only beta's workers, beside a running production cluster).")
    var channel = "production"
    @Option(help: "The redial executable the components run (default: this one), e.g. a beta build beside production's.")
    var binary: String?

    func validate() throws {
        guard (1...64).contains(workers) else { throw ValidationError("--workers: expected 1-64, got \(workers)") }
        guard ["production", "beta"].contains(channel) else { throw ValidationError("--channel: expected production or beta, got \(channel)") }
        if let binary, !FileManager.default.isExecutableFile(atPath: binary) {
            throw ValidationError("--binary: \(binary) is not an executable file")
        }
    }

    func run() async throws {
        let settings = try Environment.settings()
        let logger = Environment.bootstrapLogging()
        let executable = binary ?? URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        let workerComponents = (1...workers).map { index in
            Supervisor.Component(name: "\(channel)-worker-\(index)", arguments: ["work", "--channel", channel, "--concurrency", String(concurrency)])
        }
        if channel == "beta" {
            // Beta is workers only: the API, relay and watchdog are the production cluster's, which
            // routes beta's callbacks to the beta queues these serve.
            logger.info("redial up --channel beta: \(workers) workers of \(executable)")
            await Supervisor(executable: executable, components: workerComponents, grace: .seconds(30), logger: logger).run()
            return
        }
        // The watchdog expects as many live workers as this starts (unless told otherwise).
        setenv("REDIAL_EXPECTED_WORKERS", String(workers), 0)
        var components: [Supervisor.Component] = [
            .init(name: "api", arguments: ["serve"]),
            .init(name: "relay", arguments: ["relay"]),
            .init(name: "watchdog", arguments: ["watchdog"]),
        ] + workerComponents
        if !noSandbox { components.append(.init(name: "sandbox", arguments: ["sandbox"])) }
        logger.info("redial up: \(components.map(\.name).joined(separator: ", ")); API on http://\(settings.httpHost):\(settings.httpPort)")
        let supervisor = Supervisor(executable: executable, components: components, grace: .seconds(30), logger: logger)
        let promotions = Task { await followPromotions(supervisor, workers: workerComponents.map(\.name), settings: settings, logger: logger) }
        await supervisor.run()
        promotions.cancel()
        logger.info("redial up: stopped")
    }

    /// Watches for a promoted release that names a build (`redial release promote --binary`) and
    /// moves the workers to it one at a time, each draining before it stops.
    func followPromotions(_ supervisor: Supervisor, workers: [String], settings: RedialSettings, logger: Logger) async {
        let database = PostgresPool(configuration: PostgresConfiguration(url: settings.database, poolSize: 1))
        let redis = RedisPool(configuration: Environment.redisConfiguration(settings, poolSize: 1))
        let jobs = JobQueue(redis: redis)
        let gate = ReleaseGate(database: database, jobs: jobs)
        @Sendable func live() async -> Int { (try? await jobs.liveWorkers(queues: try await jobs.queues()).count) ?? 0 }
        var followed: String?
        while !Task.isCancelled {
            // Workers already on the promoted build are left alone (`Supervisor.replace`).
            if let promoted = try? await gate.promotedBinary(), promoted.binary != followed {
                // The next worker goes only once the last one serves again: as many live as before.
                let serving = await live()
                let moved = await supervisor.replace(workers, with: promoted.binary, settle: .seconds(2) * min(1, settings.timeScale * 10)) {
                    await live() >= serving
                }
                if !moved.isEmpty { logger.notice("release \(promoted.version): \(moved.joined(separator: ", ")) moved to \(promoted.binary), one at a time") }
                followed = promoted.binary
            }
            try? await Task.sleep(for: .seconds(1))
        }
        await redis.close()
        await database.close()
    }
}
