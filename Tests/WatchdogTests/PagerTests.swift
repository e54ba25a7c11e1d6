import Domain
import Foundation
import HTTPClient
import LocalServices
import Logging
import PostgresClient
import Providers
import Testing
import TestSupport
@testable import Watchdog

/// The pager against the real sandbox SMS gateway and PostgreSQL, fed Alertmanager's webhook
/// bodies as Alertmanager sends them.
@Suite struct PagerTests {
    static func notification(_ status: String, group: String, alerts: [(name: String, status: String)]) -> [UInt8] {
        let list = alerts.map { alert in
            #"{"status": "\#(alert.status)", "labels": {"alertname": "\#(alert.name)", "severity": "page"}, "annotations": {"summary": "\#(alert.name) summary"}, "startsAt": "2026-12-03T10:00:00Z", "endsAt": "0001-01-01T00:00:00Z", "fingerprint": "f\#(alert.name.count)"}"#
        }.joined(separator: ", ")
        return Array(#"{"version": "4", "groupKey": "\#(group)", "status": "\#(status)", "receiver": "page-oncall", "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {}, "externalURL": "http://am", "truncatedAlerts": 0, "alerts": [\#(list)]}"#.utf8)
    }

    struct SentSMS: Decodable {
        let to: String
        let text: String
    }

    @Test func aPageRepeatedUnacknowledgedEscalatesAndTheResolutionReachesEveryonePaged() async throws {
        let (database, schema) = try await TestServices.postgres()
        try await Migrator.migrate(database, Schema.migrations())
        let port = try LocalHost.freePort()
        let sandbox = try RedialBinary.start(["sandbox"], environment: ["REDIAL_SANDBOX_PORT": String(port)], logName: "pager-sandbox-\(port)")
        defer { sandbox.stop() }
        let url = "http://127.0.0.1:\(port)"
        #expect(try await eventually(timeout: .seconds(20)) { (try? await HTTPClient().send(HTTPClientRequest(url: url + "/healthz")))?.status == 200 })
        func sent() async throws -> [SentSMS] {
            let all = try JSONDecoder().decode([SentSMS].self, from: Data(try await HTTPClient().send(HTTPClientRequest(url: url + "/sandbox/sms")).body))
            return all.filter { $0.text.hasPrefix("[Redial]") }
        }
        let pager = Pager(database: database, sms: SandboxSMS(baseURL: url),
                          contacts: .init(primary: "+79990001111", secondary: "+79990002222", escalateAfter: .milliseconds(300)),
                          logger: Logger(label: "test.pager"))
        let group = TestServices.uniqueName("group")

        // First notification: the primary only, with the alert and how to acknowledge it.
        #expect(try await pager.receive(Self.notification("firing", group: group, alerts: [("TrunkDown", "firing"), ("QueueStalled", "firing")]))
                == .init(paged: ["primary"]))
        let first = try await sent()
        #expect(first.count == 1 && first[0].to == "+79990001111")
        #expect(first[0].text == "[Redial] FIRING TrunkDown: TrunkDown summary (+1 more). Ack: redial alerts ack f9")

        // Alertmanager repeats it (nobody silenced it): past the escalation time, the secondary too.
        #expect(try await eventually(timeout: .seconds(5)) {
            let rows = try await database.query("SELECT 1 FROM pages WHERE group_key = $1 AND sent_at < now() - interval '300 milliseconds'", [group])
            return !rows.isEmpty
        })
        #expect(try await pager.receive(Self.notification("firing", group: group, alerts: [("TrunkDown", "firing")]))
                == .init(paged: ["primary", "secondary"]))
        #expect(try await sent().map(\.to).sorted() == ["+79990001111", "+79990001111", "+79990002222"])

        // Resolved: everyone this incident paged is told, once each.
        #expect(try await pager.receive(Self.notification("resolved", group: group, alerts: [("TrunkDown", "resolved")]))
                == .init(paged: ["primary", "secondary"]))
        let resolved = try await sent().filter { $0.text.hasPrefix("[Redial] RESOLVED TrunkDown") }
        #expect(resolved.map(\.to).sorted() == ["+79990001111", "+79990002222"])

        // A new incident of the same group starts with the primary alone again.
        #expect(try await pager.receive(Self.notification("firing", group: group, alerts: [("TrunkDown", "firing")]))
                == .init(paged: ["primary"]))

        // Not Alertmanager's: refused, nothing sent.
        let before = try await sent().count
        for body in ["{}", "[]", #"{"version": "3", "groupKey": "g", "status": "firing", "alerts": []}"#, "not json"] {
            await #expect(throws: PagerError.self) { try await pager.receive(Array(body.utf8)) }
        }
        #expect(try await sent().count == before)
        await database.close()
        try await TestServices.dropSchema(schema)
    }
}
