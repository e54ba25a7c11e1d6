import Foundation
import HTTPClient
import LocalServices
import PostgresClient
import Testing
import TestSupport

/// The whole alerting path with real parts and scaled intervals (`AlertingStack`).
@Suite struct AlertingEndToEndTests {
    struct Listed: Decodable {
        let id: String
        let name: String
        let state: String
    }

    func alerts(_ stack: AlertingStack) async throws -> [Listed] {
        let listed = try await RedialBinary.run(["alerts", "list", "--json"], environment: stack.environment)
        return (try? JSONDecoder().decode([Listed].self, from: Data(listed.output.utf8))) ?? []
    }

    /// A SIPp trunk stops answering → the probe goes down → Prometheus fires TrunkDown →
    /// Alertmanager → an SMS to on-call and an email; the page repeats while nobody acknowledges
    /// it and escalates to the secondary, and stops once acknowledged; the trunk answers again → a
    /// resolved notice to both.
    @Test func aTrunkOutagePagesOnCallRepeatsEscalatesStopsWhenAcknowledgedAndResolves() async throws {
        let stack = try await AlertingStack(databaseName: "alerting")
        defer { stack.stop() }
        func trunkMails() throws -> [String] { try stack.mail.messages().filter { $0.contains("TrunkDown") } }
        #expect(try await eventually(timeout: .seconds(20)) {
            await WatchdogProcessTests.sample(stack.watchdogPort, #"redial_probe_success{probe="sip_trunk",target="edge"}"#) == 1
        })

        // It stops answering: on-call's phone gets the page, and the email comes too.
        stack.stopTrunk()
        #expect(try await eventually(timeout: .seconds(40)) {
            try await stack.pages("TrunkDown").contains { $0.to == "+79990001111" && $0.text.contains("FIRING") }
        })
        #expect(try await eventually(timeout: .seconds(20)) { try !trunkMails().isEmpty })
        // Unacknowledged, it repeats, and past the escalation time the secondary is paged too.
        #expect(try await eventually(timeout: .seconds(30)) { try await stack.pages("TrunkDown").filter { $0.to == "+79990001111" }.count >= 2 })
        #expect(try await eventually(timeout: .seconds(30)) {
            try await stack.pages("TrunkDown").contains { $0.to == "+79990002222" && $0.text.contains("FIRING") }
        })

        // Acknowledged (the id is in the page): no more pages for it, not even to the secondary.
        let id = try #require(try await stack.pages("TrunkDown").last?.text.components(separatedBy: "redial alerts ack ").last)
        let ack = try await RedialBinary.run(["alerts", "ack", id], environment: stack.environment)
        #expect(ack.status == 0 && ack.output.contains("acknowledged TrunkDown"), "\(ack.output)")
        let acked = try await stack.pages("TrunkDown").filter { $0.text.contains("FIRING") }.count
        // Alertmanager keeps notifying: its repeats reach the pager, which sends nothing more.
        func declined() async -> Int {
            guard let response = try? await HTTPClient().send(HTTPClientRequest(url: "http://127.0.0.1:\(stack.watchdogPort)/metrics")) else { return 0 }
            return Int(response.text.split(separator: "\n").first { $0.hasPrefix("redial_pager_acknowledged_total ") }?.split(separator: " ").last ?? "") ?? 0
        }
        #expect(try await eventually(timeout: .seconds(20)) { await declined() >= 2 }, "two repeats after the acknowledgement")
        #expect(try await stack.pages("TrunkDown").filter { $0.text.contains("FIRING") }.count <= acked + 1, "at most one page was on its way")

        // It answers again: both are told it is resolved, and the email says so too.
        try stack.startTrunk()
        #expect(try await eventually(timeout: .seconds(40)) {
            Set(try await stack.pages("TrunkDown").filter { $0.text.contains("RESOLVED") }.map(\.to)) == ["+79990001111", "+79990002222"]
        })
        #expect(try await eventually(timeout: .seconds(20)) { try trunkMails().contains { $0.contains("RESOLVED") || $0.contains("resolved") } })
    }

    /// Accepted callbacks nobody dials raise the SLA alert; while the trunk is down the outage
    /// explains them, and the SLA alert is inhibited (not sent on its own).
    @Test func lateCallbacksRaiseTheSLAAlertAndATrunkOutageInhibitsIt() async throws {
        let stack = try await AlertingStack(databaseName: "alerting_sla")
        defer { stack.stop() }
        let site = try await RedialBinary.run(["sites", "add", "--name", "SLA", "--manager", "+79990000001", "--json"],
                                              environment: ["REDIAL_DATABASE_URL": stack.database])
        struct Created: Decodable { let id: String }
        let line = try #require(site.output.split(separator: "\n").last { $0.hasPrefix("{") }, "\(site.output)")
        let siteID = try JSONDecoder().decode(Created.self, from: Data(line.utf8)).id
        let database = PostgresPool(configuration: PostgresConfiguration(url: try PostgresURL(parsing: stack.database), poolSize: 1))
        // Accepted a while ago (longer than the 12 s SLA at this time scale) and never dialed: no workers run here.
        try await database.query("""
            INSERT INTO callbacks (site_id, phone, status, created_at) VALUES ($1::uuid, '+79161234560', 'queued', now() - interval '1 minute')
            """, [siteID])
        await database.close()
        #expect(try await eventually(timeout: .seconds(40)) { try await alerts(stack).contains { $0.name == "CallbackSLA" && $0.state == "firing" } })
        #expect(try await eventually(timeout: .seconds(30)) { try await stack.pages("CallbackSLA").contains { $0.text.contains("FIRING") } })

        stack.stopTrunk()
        #expect(try await eventually(timeout: .seconds(40)) {
            let listed = try await alerts(stack)
            return listed.contains { $0.name == "TrunkDown" && $0.state == "firing" } && listed.contains { $0.name == "CallbackSLA" && $0.state == "inhibited" }
        })
    }

    /// The only watchdog dies for good: Prometheus finds its metrics gone and WatchdogAbsent
    /// reaches on-call by email, Alertmanager's own path (the SMS pager lives in the watchdog, so
    /// it goes with it: a standby watchdog is what keeps SMS pages coming). The always-firing
    /// `Watchdog` alert, the pipeline's own dead-man's switch for an outside checker, keeps firing.
    @Test func aWatchdogThatDiesForGoodIsReportedByTheDeadMansSwitch() async throws {
        let stack = try await AlertingStack(databaseName: "alerting_deadman")
        defer { stack.stop() }
        #expect(try await eventually(timeout: .seconds(20)) { await WatchdogProcessTests.sample(stack.watchdogPort, "redial_watchdog_active") == 1 })
        #expect(try await eventually(timeout: .seconds(20)) { try await alerts(stack).contains { $0.name == "Watchdog" && $0.state == "firing" } })
        // Prometheus has scraped it active: WatchdogAbsent (firing while the stack started) is not, before the kill.
        #expect(try await eventually(timeout: .seconds(30)) { try await !alerts(stack).contains { $0.name == "WatchdogAbsent" } })
        let mailsBefore = try stack.mail.messages().count

        stack.killWatchdog()
        #expect(try await eventually(timeout: .seconds(40)) {
            try stack.mail.messages().dropFirst(mailsBefore).contains { $0.contains("WatchdogAbsent") && !$0.contains("RESOLVED") }
        })
        let listed = try await alerts(stack)
        #expect(listed.contains { $0.name == "WatchdogAbsent" && $0.state == "firing" })
        #expect(listed.contains { $0.name == "Watchdog" && $0.state == "firing" })
    }
}
