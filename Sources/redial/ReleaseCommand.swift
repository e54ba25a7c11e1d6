import ArgumentParser
import Foundation
import PostgresClient
import Queue
import RedisClient
import ReleaseGate
import Settings

/// `redial release start|status|promote|rollback`: the beta → production path's gate.
struct ReleaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "release",
        abstract: "Soak a beta release against production, and promote it only when the gate lets it through.",
        subcommands: [Start.self, Status.self, Promote.self, Rollback.self])

    /// Runs `body` with the gate on the configured PostgreSQL and Redis; a refusal exits 1 with its reasons.
    static func withGate<T>(_ body: (ReleaseGate, Double) async throws(ReleaseError) -> T) async throws -> T {
        let settings = try Environment.settings()
        let database = PostgresPool(configuration: PostgresConfiguration(url: settings.database, poolSize: 1))
        let redis = RedisPool(configuration: Environment.redisConfiguration(settings, poolSize: 1))
        let gate = ReleaseGate(database: database, jobs: JobQueue(redis: redis, timeScale: settings.timeScale))
        do {
            let result = try await body(gate, settings.timeScale)
            await redis.close()
            await database.close()
            return result
        } catch {
            await redis.close()
            await database.close()
            switch error {
            case .refused, .notFound: Environment.fail("release: \(error)", code: 1)
            case .invalid: Environment.fail("release: \(error)", code: 64)
            case .unavailable: Environment.fail("release: \(error)", code: 69)
            }
        }
    }

    static func print(_ report: GateReport, json: Bool) throws {
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            encoder.dateEncodingStrategy = .iso8601
            Swift.print(String(decoding: try encoder.encode(report), as: UTF8.self))
            return
        }
        Swift.print("release \(report.version): \(report.state), soaked \(GateReport.duration(report.elapsedSeconds)) "
                    + "of \(GateReport.duration(report.windowSeconds))")
        Swift.print("metric".padding(48) + "production".padding(22) + "beta".padding(22) + "verdict")
        for metric in report.metrics {
            Swift.print(metric.name.padding(48) + "\(metric.formatted(metric.production)) of \(metric.productionSamples)".padding(22)
                        + "\(metric.formatted(metric.beta)) of \(metric.betaSamples)".padding(22)
                        + "\(metric.verdict.rawValue)  (\(metric.threshold); ≥ \(metric.minimumSamples) samples)")
        }
        Swift.print(report.promotable ? "verdict: promotable" : "verdict: not promotable:\n" + report.reasons.map { "  - \($0)" }.joined(separator: "\n"))
    }

    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Register a beta release; the gate compares beta with production from now on.")
        @Argument(help: "The release's version (as its workers announce it).") var version: String
        @Option(help: "How long beta must soak before promotion: 7d, 12h, 30m (× REDIAL_TIME_SCALE).") var window = "7d"

        func run() async throws {
            let length = try Environment.duration(window, option: "--window", range: 60...90 * 86_400)
            try await withGate { gate, scale throws(ReleaseError) in
                try await gate.start(version: version, window: length * scale, actor: Environment.operatorName)
            }
            Swift.print("release \(version): soaking for \(window)\(try Environment.settings().timeScale == 1 ? "" : " (× the time scale)")")
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Compare beta with production, metric by metric, with the gate's verdict.")
        @Argument(help: "A release's version (default: the one soaking).") var version: String?
        @Flag(help: "Print the report as JSON.") var json = false

        func run() async throws {
            let report = try await withGate { gate, _ throws(ReleaseError) in try await gate.report(version: version) }
            try ReleaseCommand.print(report, json: json)
        }
    }

    struct Promote: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Promote a soaking release: refused, with every reason, until the soak is complete and beta is no worse.")
        @Argument(help: "The soaking release's version.") var version: String
        @Flag(help: "Promote even though the gate refuses (recorded with who and why).") var force = false
        @Option(help: "Why (required with --force).") var reason: String?
        @Option(help: "The new build's redial executable: production's `redial up` moves its workers to it, one at a time.")
        var binary: String?

        func validate() throws {
            if let binary, !FileManager.default.isExecutableFile(atPath: binary) {
                throw ValidationError("--binary: \(binary) is not an executable file")
            }
        }

        func run() async throws {
            let path = binary.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
            let report = try await withGate { gate, _ throws(ReleaseError) in
                try await gate.promote(version: version, actor: Environment.operatorName, force: force, reason: reason, binary: path)
            }
            Swift.print((report.promotable ? "release \(version): promoted" : "release \(version): promoted by force over: "
                         + report.reasons.joined(separator: "; "))
                        + (path.map { "; production's workers move to \($0) one at a time" } ?? ""))
        }
    }

    struct Rollback: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Roll a soaking release back: new callbacks go to production only; beta's waiting jobs move to production's queues; beta's workers finish what they hold.")
        @Argument(help: "The soaking release's version.") var version: String
        @Option(help: "Why.") var reason: String?

        func run() async throws {
            try await withGate { gate, _ throws(ReleaseError) in
                try await gate.rollback(version: version, actor: Environment.operatorName, reason: reason)
            }
            Swift.print("release \(version): rolled back; new callbacks go to production, and so does what waited on beta")
        }
    }
}
