import Foundation
import HTTPClient
import LocalServices
import RedisClient
import Testing
import TestSupport

/// Everything an alert travels through, started for one test with scaled intervals: a SIPp trunk,
/// the sandbox (carrier and SMS gateway), a watchdog on a Redis of its own, Prometheus with the
/// shipped rules (`for:` shortened) and Alertmanager with the shipped config (waits shortened),
/// mailing an SMTP sink and paging through the watchdog.
final class AlertingStack: @unchecked Sendable {
    // @unchecked: `sip` changes only from the test's own task (stopped and started again).
    let database: String
    let redis: PrivateRedis
    let mail: MailSink
    let sandboxPort, sipPort, watchdogPort, alertmanagerPort, prometheusPort: Int
    private(set) var sip: ChildProcess
    private let watchdog: ChildProcess
    let alertmanager: PrivateAlertmanager
    private let processes: [ChildProcess]

    struct SentSMS: Decodable {
        let to: String
        let text: String
    }

    init(databaseName: String) async throws {
        let directory = LocalHost.repositoryRoot.appendingPathComponent(".run/test-alerting/\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        database = try await TestServices.database(databaseName)
        let migrated = try await RedialBinary.run(["migrate"], environment: ["REDIAL_DATABASE_URL": database])
        guard migrated.status == 0 else { throw SetupError("migrate: \(migrated.output)") }
        redis = try await PrivateRedis()
        mail = try await MailSink()
        (sandboxPort, sipPort, watchdogPort, prometheusPort) =
            (try LocalHost.freePort(), try LocalHost.freePort(), try LocalHost.freePort(), try LocalHost.freePort())
        try Self.render("deploy/alertmanager/alertmanager.yml", [
            ("group_wait: 10s", "group_wait: 1s"), ("group_interval: 1m", "group_interval: 1s"), ("repeat_interval: 15m", "repeat_interval: 2s"),
            ("127.0.0.1:2525", "127.0.0.1:\(mail.port)"), ("127.0.0.1:9102", "127.0.0.1:\(watchdogPort)"),
        ], to: directory.appendingPathComponent("alertmanager.yml"))
        alertmanager = try await PrivateAlertmanager(config: directory.appendingPathComponent("alertmanager.yml"))
        alertmanagerPort = alertmanager.port
        // The carrier at the watchdog's time scale: its test call rings for 0.3 s, within the probe's timeout.
        let sandbox = try RedialBinary.start(["sandbox"], environment: ["REDIAL_SANDBOX_PORT": String(sandboxPort), "REDIAL_TIME_SCALE": "0.1"],
                                             logName: "alerting-sandbox-\(sandboxPort)")
        sip = try WatchdogProcessTests.trunk(port: sipPort)
        watchdog = try RedialBinary.start(["watchdog"], environment: [
            "REDIAL_REDIS_URL": redis.url.description, "REDIAL_DATABASE_URL": database, "REDIAL_TIME_SCALE": "0.1",
            "REDIAL_WATCHDOG_PORT": String(watchdogPort), "REDIAL_SIP_TRUNKS": "edge=sip:trunk@127.0.0.1:\(sipPort)",
            "REDIAL_TELEPHONY_URL": "http://127.0.0.1:\(sandboxPort)", "REDIAL_SMS_URL": "http://127.0.0.1:\(sandboxPort)",
            "REDIAL_ONCALL_PHONE": "+79990001111", "REDIAL_ONCALL_PHONE_SECONDARY": "+79990002222",
            "REDIAL_ONCALL_ESCALATE_MINUTES": "0.1",  // 6 s × 0.1: the second repeat escalates
            "REDIAL_EXPECTED_WORKERS": "0",  // no workers here: WorkersMissing would inhibit the SLA alert
            "REDIAL_ALERTMANAGER_URL": alertmanager.url,
        ], logName: "alerting-watchdog-\(watchdogPort)")
        try Self.render("deploy/prometheus/rules.yml", [("for: 30s", "for: 2s"), ("for: 1m", "for: 2s")],
                        to: directory.appendingPathComponent("rules.yml"))
        try """
            global: {scrape_interval: 1s, evaluation_interval: 1s}
            rule_files: [\(directory.appendingPathComponent("rules.yml").path)]
            alerting: {alertmanagers: [{static_configs: [{targets: ["127.0.0.1:\(alertmanagerPort)"]}]}]}
            scrape_configs: [{job_name: redial-watchdog, static_configs: [{targets: ["127.0.0.1:\(watchdogPort)"]}]}]
            """.write(to: directory.appendingPathComponent("prometheus.yml"), atomically: true, encoding: .utf8)
        let prometheus = try ChildProcess("/usr/bin/prometheus", [
            "--config.file=\(directory.path)/prometheus.yml", "--storage.tsdb.path=\(directory.path)/prometheus",
            "--web.listen-address=127.0.0.1:\(prometheusPort)", "--rules.alert.resend-delay=1s",
        ], logName: "alerting-prometheus-\(prometheusPort)")
        processes = [prometheus, sandbox]
        let ready = "http://127.0.0.1:\(prometheusPort)/-/ready"
        guard try await eventually(timeout: .seconds(30), {
            (try? await HTTPClient().send(HTTPClientRequest(url: ready, timeout: .seconds(1))))?.status == 200
        }) else { throw SetupError("\(ready) did not become ready") }
    }

    func stop() {
        for process in processes + [watchdog, sip] { process.stop() }
        alertmanager.stop()
        mail.stop()
        redis.stop()
    }

    func stopTrunk() { sip.stop() }
    /// The watchdog dies for good (no standby here).
    func killWatchdog() { watchdog.stop(signal: SIGKILL) }
    func startTrunk() throws { sip = try WatchdogProcessTests.trunk(port: sipPort) }

    /// `redial` with this stack's Alertmanager and database.
    var environment: [String: String] {
        ["REDIAL_ALERTMANAGER_URL": "http://127.0.0.1:\(alertmanagerPort)", "REDIAL_DATABASE_URL": database]
    }

    /// The SMS the sandbox sent that mention `alert`.
    func pages(_ alert: String) async throws -> [SentSMS] {
        guard let response = try? await HTTPClient().send(HTTPClientRequest(url: "http://127.0.0.1:\(sandboxPort)/sandbox/sms")),
              response.status == 200 else { return [] }
        return try JSONDecoder().decode([SentSMS].self, from: Data(response.body)).filter { $0.text.contains(alert) }
    }

    static func render(_ path: String, _ replacements: [(String, String)], to file: URL) throws {
        var text = try String(contentsOf: LocalHost.repositoryRoot.appendingPathComponent(path), encoding: .utf8)
        for (from, to) in replacements {
            guard text.contains(from) else { throw SetupError("\(path) no longer contains '\(from)'") }
            text = text.replacingOccurrences(of: from, with: to)
        }
        try text.write(to: file, atomically: true, encoding: .utf8)
    }
}
