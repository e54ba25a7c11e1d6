import Foundation
import LocalServices
import PostgresClient
import RedisClient
import Testing
import TestSupport

/// The gate's alerts metric: the watchdog notes the alerts Alertmanager holds while a release
/// soaks, each put down to the channel its labels name; beta raising more than production rolls
/// it back. Alerts are posted to a real Alertmanager as Prometheus would post them.
@Suite struct ReleaseAlertsTests {
    struct Report: Decodable {
        struct Metric: Decodable {
            let name: String
            let verdict: String
            let production: Double?
            let beta: Double?
            let productionSamples: Int
        }
        let state: String
        let metrics: [Metric]
    }

    @Test func alertsOnBetasQueuesCountAgainstItAndRollItBack() async throws {
        let redis = try await PrivateRedis()
        let alertmanager = try await PrivateAlertmanager()
        let database = try await TestServices.database("release-alerts")
        var environment = ["REDIAL_REDIS_URL": redis.url.description, "REDIAL_DATABASE_URL": database, "REDIAL_ALERTMANAGER_URL": alertmanager.url]
        let migrated = try await RedialBinary.run(["migrate"], environment: environment)
        try #require(migrated.status == 0, "\(migrated.output)")
        #expect(try await RedialBinary.run(["release", "start", "r1", "--window", "10m"], environment: environment).status == 0)
        func alerts() async throws -> (state: String, metric: Report.Metric) {
            let status = try await RedialBinary.run(["release", "status", "r1", "--json"], environment: environment)
            let line = try #require(status.output.split(separator: "\n").last { $0.hasPrefix("{") }, "\(status.output)")
            let report = try JSONDecoder().decode(Report.self, from: Data(line.utf8))
            return (report.state, try #require(report.metrics.first { $0.name.hasPrefix("watchdog alerts") }))
        }
        // Nobody has looked yet: nothing can be said (a soak without a watchdog is not a quiet one).
        let unseen = try await alerts().metric
        #expect(unseen.verdict == "insufficient" && unseen.productionSamples == 0, "\(unseen)")

        environment["REDIAL_TIME_SCALE"] = "0.1"  // the gate is read every 1.5 s
        environment["REDIAL_WATCHDOG_PORT"] = String(try LocalHost.freePort())
        environment["REDIAL_EXPECTED_WORKERS"] = "0"
        let watchdog = try RedialBinary.start(["watchdog"], environment: environment, logName: "release-alerts-watchdog")
        defer { watchdog.stop(signal: SIGTERM); alertmanager.stop(); redis.stop() }

        // A production queue's alert counts for production; one about the carrier for nobody.
        try await alertmanager.fire(["alertname": "QueueStalled", "queue": "callbacks", "severity": "page"])
        try await alertmanager.fire(["alertname": "TrunkDown", "trunk": "edge", "severity": "page"])
        let seen = try await eventually(timeout: .seconds(30), every: .milliseconds(300)) {
            let metric = try await alerts().metric
            return metric.production == 1 && metric.beta == 0 && metric.verdict == "pass"
        }
        let shown = try await alerts().metric
        #expect(seen, "\(shown)")

        // Beta's queues raise two: more than production's one, and the watchdog rolls beta back.
        try await alertmanager.fire(["alertname": "QueueStalled", "queue": "callbacks@beta", "severity": "page"])
        try await alertmanager.fire(["alertname": "DeadJobsRising", "queue": "notify.sms@beta", "severity": "warn"])
        let rolledBack = try await eventually(timeout: .seconds(30), every: .milliseconds(300)) { try await alerts().state == "rolled_back" }
        #expect(rolledBack)
        let final = try await alerts().metric
        #expect(final.verdict == "fail" && final.beta == 2 && final.production == 1, "\(final)")
        let pool = PostgresPool(configuration: PostgresConfiguration(url: try PostgresURL(parsing: database), poolSize: 1))
        let why = try await pool.query("SELECT actor, reason FROM release_events WHERE version = 'r1' AND action = 'rollback'")
        #expect(try why.first?.decode("actor", as: String.self) == "watchdog")
        let reason = try why.first?.decode("reason", as: String.self) ?? "no rollback"
        #expect(reason.contains("watchdog alerts attributed to the channel: beta 2 against production 1"), "\(reason)")
        await pool.close()
    }
}
