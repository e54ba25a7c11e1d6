import Foundation
import HTTPClient
import LocalServices
import RedisClient
import Testing
import TestSupport

/// The whole alerting path with real parts and scaled intervals: a SIPp trunk stops answering →
/// the watchdog's probe goes down → Prometheus fires TrunkDown (the shipped rules, `for:` shortened)
/// → Alertmanager (the shipped config, its waits shortened) → an SMS to on-call through the
/// sandbox and an email at an SMTP sink; the page repeats while nobody acknowledges it and
/// escalates to the secondary, and stops once acknowledged; the trunk answers again → a resolved
/// notice to both.
@Suite struct AlertingEndToEndTests {
    struct SentSMS: Decodable {
        let to: String
        let text: String
    }

    static func render(_ path: String, _ replacements: [(String, String)], to file: URL) throws {
        var text = try String(contentsOf: LocalHost.repositoryRoot.appendingPathComponent(path), encoding: .utf8)
        for (from, to) in replacements {
            guard text.contains(from) else { throw SetupError("\(path) no longer contains '\(from)'") }
            text = text.replacingOccurrences(of: from, with: to)
        }
        try text.write(to: file, atomically: true, encoding: .utf8)
    }

    static func ready(_ url: String) async throws -> Bool {
        try await eventually(timeout: .seconds(30)) { (try? await HTTPClient().send(HTTPClientRequest(url: url, timeout: .seconds(1))))?.status == 200 }
    }

    @Test func aTrunkOutagePagesOnCallRepeatsEscalatesStopsWhenAcknowledgedAndResolves() async throws {
        let directory = LocalHost.repositoryRoot.appendingPathComponent(".run/test-alerting/\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let database = try await TestServices.database("alerting")
        let migrated = try await RedialBinary.run(["migrate"], environment: ["REDIAL_DATABASE_URL": database])
        #expect(migrated.status == 0, "\(migrated.output)")
        let redis = try await PrivateRedis()
        let mail = try await MailSink()
        let (sandboxPort, sipPort, watchdogPort, alertmanagerPort, prometheusPort) =
            (try LocalHost.freePort(), try LocalHost.freePort(), try LocalHost.freePort(), try LocalHost.freePort(), try LocalHost.freePort())
        let sandbox = try RedialBinary.start(["sandbox"], environment: ["REDIAL_SANDBOX_PORT": String(sandboxPort)],
                                             logName: "alerting-sandbox-\(sandboxPort)")
        var sip = try WatchdogProcessTests.trunk(port: sipPort)
        let watchdog = try RedialBinary.start(["watchdog"], environment: [
            "REDIAL_REDIS_URL": redis.url.description, "REDIAL_DATABASE_URL": database, "REDIAL_TIME_SCALE": "0.1",
            "REDIAL_WATCHDOG_PORT": String(watchdogPort), "REDIAL_SIP_TRUNKS": "edge=sip:trunk@127.0.0.1:\(sipPort)",
            "REDIAL_TELEPHONY_URL": "http://127.0.0.1:\(sandboxPort)", "REDIAL_SMS_URL": "http://127.0.0.1:\(sandboxPort)",
            "REDIAL_ONCALL_PHONE": "+79990001111", "REDIAL_ONCALL_PHONE_SECONDARY": "+79990002222",
            "REDIAL_ONCALL_ESCALATE_MINUTES": "0.1",  // 6 s × 0.1: the second repeat escalates
        ], logName: "alerting-watchdog-\(watchdogPort)")
        try Self.render("deploy/alertmanager/alertmanager.yml", [
            ("group_wait: 10s", "group_wait: 1s"), ("group_interval: 1m", "group_interval: 1s"), ("repeat_interval: 15m", "repeat_interval: 2s"),
            ("127.0.0.1:2525", "127.0.0.1:\(mail.port)"), ("127.0.0.1:9102", "127.0.0.1:\(watchdogPort)"),
        ], to: directory.appendingPathComponent("alertmanager.yml"))
        try Self.render("deploy/prometheus/rules.yml", [("for: 30s", "for: 2s")], to: directory.appendingPathComponent("rules.yml"))
        try """
            global: {scrape_interval: 1s, evaluation_interval: 1s}
            rule_files: [\(directory.appendingPathComponent("rules.yml").path)]
            alerting: {alertmanagers: [{static_configs: [{targets: ["127.0.0.1:\(alertmanagerPort)"]}]}]}
            scrape_configs: [{job_name: redial-watchdog, static_configs: [{targets: ["127.0.0.1:\(watchdogPort)"]}]}]
            """.write(to: directory.appendingPathComponent("prometheus.yml"), atomically: true, encoding: .utf8)
        let alertmanager = try ChildProcess("/usr/bin/prometheus-alertmanager", [
            "--config.file=\(directory.path)/alertmanager.yml", "--storage.path=\(directory.path)/am",
            "--web.listen-address=127.0.0.1:\(alertmanagerPort)", "--cluster.listen-address=",
        ], logName: "alerting-alertmanager-\(alertmanagerPort)")
        let prometheus = try ChildProcess("/usr/bin/prometheus", [
            "--config.file=\(directory.path)/prometheus.yml", "--storage.tsdb.path=\(directory.path)/prometheus",
            "--web.listen-address=127.0.0.1:\(prometheusPort)", "--rules.alert.resend-delay=1s",
        ], logName: "alerting-prometheus-\(prometheusPort)")
        defer {
            for process in [prometheus, alertmanager, watchdog, sip, sandbox] { process.stop() }
            mail.stop()
            redis.stop()
        }
        #expect(try await Self.ready("http://127.0.0.1:\(alertmanagerPort)/-/ready"))
        #expect(try await Self.ready("http://127.0.0.1:\(prometheusPort)/-/ready"))
        let sms = "http://127.0.0.1:\(sandboxPort)/sandbox/sms"
        func pages() async throws -> [SentSMS] {
            guard let response = try? await HTTPClient().send(HTTPClientRequest(url: sms)), response.status == 200 else { return [] }
            return try JSONDecoder().decode([SentSMS].self, from: Data(response.body)).filter { $0.text.contains("TrunkDown") }
        }
        func trunkMails() throws -> [String] { try mail.messages().filter { $0.contains("TrunkDown") } }
        // The trunk answers: nothing is paged.
        #expect(try await eventually(timeout: .seconds(20)) {
            await WatchdogProcessTests.sample(watchdogPort, #"redial_probe_success{probe="sip_trunk",target="edge"}"#) == 1
        })

        // It stops answering: on-call's phone gets the page, and the email comes too.
        sip.stop()
        #expect(try await eventually(timeout: .seconds(40)) { try await pages().contains { $0.to == "+79990001111" && $0.text.contains("FIRING") } })
        #expect(try await eventually(timeout: .seconds(20)) { try !trunkMails().isEmpty })
        // Unacknowledged, it repeats, and past the escalation time the secondary is paged too.
        #expect(try await eventually(timeout: .seconds(30)) { try await pages().filter { $0.to == "+79990001111" }.count >= 2 })
        #expect(try await eventually(timeout: .seconds(30)) { try await pages().contains { $0.to == "+79990002222" && $0.text.contains("FIRING") } })

        // Acknowledged (the id is in the page): no more pages for it, not even to the secondary.
        let alertmanagerURL = ["REDIAL_ALERTMANAGER_URL": "http://127.0.0.1:\(alertmanagerPort)", "REDIAL_DATABASE_URL": database]
        let paged = try await pages().filter { $0.text.contains("FIRING") }
        let id = try #require(paged.last?.text.components(separatedBy: "redial alerts ack ").last)
        let ack = try await RedialBinary.run(["alerts", "ack", id], environment: alertmanagerURL)
        #expect(ack.status == 0 && ack.output.contains("acknowledged TrunkDown"), "\(ack.output)")
        // Alertmanager keeps notifying (its repeats reach the pager, which sends nothing more).
        let acked = try await pages().filter { $0.text.contains("FIRING") }.count
        func declined() async -> Int {
            guard let response = try? await HTTPClient().send(HTTPClientRequest(url: "http://127.0.0.1:\(watchdogPort)/metrics")) else { return 0 }
            return Int(response.text.split(separator: "\n").first { $0.hasPrefix("redial_pager_acknowledged_total ") }?.split(separator: " ").last ?? "") ?? 0
        }
        #expect(try await eventually(timeout: .seconds(20)) { await declined() >= 2 }, "two repeats after the acknowledgement")
        #expect(try await pages().filter { $0.text.contains("FIRING") }.count <= acked + 1, "at most one page was already on its way")

        // It answers again: both are told it is resolved.
        sip = try WatchdogProcessTests.trunk(port: sipPort)
        #expect(try await eventually(timeout: .seconds(40)) {
            Set(try await pages().filter { $0.text.contains("RESOLVED") }.map(\.to)) == ["+79990001111", "+79990002222"]
        })
        #expect(try await eventually(timeout: .seconds(20)) { try trunkMails().contains { $0.contains("RESOLVED") || $0.contains("resolved") } })
    }
}
