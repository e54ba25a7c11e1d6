import Foundation
import HTTPClient
import LocalServices
import Testing

/// `redial alerts` against a real Alertmanager of the test's own (gossip off), holding an alert
/// posted the way Prometheus posts them.
@Suite struct AlertsCommandTests {
    struct Listed: Decodable {
        let id: String
        let name: String
        let state: String
        let labels: [String: String]
    }

    @Test func listAndSilenceThroughAlertmanager() async throws {
        let port = try LocalHost.freePort()
        let storage = LocalHost.repositoryRoot.appendingPathComponent(".run/test-alertmanager/\(port)")
        try FileManager.default.createDirectory(at: storage, withIntermediateDirectories: true)
        let config = storage.appendingPathComponent("alertmanager.yml")
        try "route:\n  receiver: nowhere\nreceivers:\n  - name: nowhere\n".write(to: config, atomically: true, encoding: .utf8)
        let server = try ChildProcess("/usr/bin/prometheus-alertmanager", [
            "--config.file=\(config.path)", "--storage.path=\(storage.path)", "--web.listen-address=127.0.0.1:\(port)",
            "--cluster.listen-address=",
        ], logName: "alertmanager-\(port)")
        defer { server.stop() }
        let url = "http://127.0.0.1:\(port)"
        #expect(try await eventually(timeout: .seconds(20)) {
            (try? await HTTPClient().send(HTTPClientRequest(url: url + "/-/ready", timeout: .seconds(1))))?.status == 200
        })
        let alerts = #"[{"labels": {"alertname": "TrunkDown", "severity": "page", "target": "edge"}, "annotations": {"summary": "SIP trunk edge does not answer OPTIONS"}}, {"labels": {"alertname": "QueueStalled", "severity": "page", "queue": "callbacks"}}]"#
        let posted = try await HTTPClient().send(HTTPClientRequest(method: "POST", url: url + "/api/v2/alerts",
                                                                   headers: [("Content-Type", "application/json")], body: Array(alerts.utf8)))
        #expect(posted.status == 200)
        let environment = ["REDIAL_ALERTMANAGER_URL": url]
        func list() async throws -> [Listed] {
            let (status, output) = try await RedialBinary.run(["alerts", "list", "--json"], environment: environment)
            #expect(status == 0, "\(output)")
            return try JSONDecoder().decode([Listed].self, from: Data(output.utf8))
        }
        #expect(try await eventually(timeout: .seconds(10)) { try await list().count == 2 })
        let listed = try await list()
        #expect(Set(listed.map(\.name)) == ["TrunkDown", "QueueStalled"] && listed.allSatisfy { $0.state == "firing" })
        let trunk = try #require(listed.first { $0.name == "TrunkDown" })
        #expect(trunk.labels["target"] == "edge")

        // Silenced by labels: only the matching alert goes quiet.
        let silence = try await RedialBinary.run(["alerts", "silence", "alertname=~Queue.*", "queue=callbacks", "--for", "30m"],
                                                 environment: environment)
        #expect(silence.status == 0, "\(silence.output)")
        #expect(try await eventually(timeout: .seconds(10)) {
            try await list().map { "\($0.name):\($0.state)" }.sorted() == ["QueueStalled:silenced", "TrunkDown:firing"]
        })

        // Bad input gets a clear error, and nothing is silenced by it.
        let bad = try await RedialBinary.run(["alerts", "silence", "alertname", "--for", "30m"], environment: environment)
        #expect(bad.status == 64 && bad.output.contains("expected name=value"), "\(bad.output)")
        let unknown = try await RedialBinary.run(["alerts", "ack", "0000000000000000"], environment: environment)
        #expect(unknown.status != 0 && unknown.output.contains("no alert 0000000000000000"), "\(unknown.output)")
        let unreachable = try await RedialBinary.run(["alerts", "list"], environment: ["REDIAL_ALERTMANAGER_URL": "http://127.0.0.1:1"])
        #expect(unreachable.status != 0 && unreachable.output.contains("cannot reach Alertmanager"), "\(unreachable.output)")
    }
}
