import Foundation
import HTTPClient
import LocalServices

/// An Alertmanager of a test's own (own port and storage), from `config` (a file), or routing
/// every alert to a receiver that sends nothing. Alerts can be posted to it as Prometheus does.
public final class PrivateAlertmanager: Sendable {
    public let port: Int
    private let process: ChildProcess

    public init(config: URL? = nil) async throws {
        port = try LocalHost.freePort()
        let directory = LocalHost.repositoryRoot.appendingPathComponent(".run/test-alertmanager/\(port)")
        try? FileManager.default.removeItem(at: directory)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let file = config ?? directory.appendingPathComponent("alertmanager.yml")
        if config == nil { try "route: {receiver: nobody}\nreceivers: [{name: nobody}]\n".write(to: file, atomically: true, encoding: .utf8) }
        process = try ChildProcess("/usr/bin/prometheus-alertmanager", [
            "--config.file=\(file.path)", "--storage.path=\(directory.path)/data",
            "--web.listen-address=127.0.0.1:\(port)", "--cluster.listen-address=",
        ], logName: "alertmanager-\(port)")
        let url = self.url + "/-/ready"
        guard try await eventually(timeout: .seconds(30), {
            (try? await HTTPClient().send(HTTPClientRequest(url: url, timeout: .seconds(1))))?.status == 200
        }) else {
            process.stop()
            throw SetupError("\(url) did not become ready: \(process.log)")
        }
    }

    public var url: String { "http://127.0.0.1:\(port)" }

    /// Posts a firing alert, as Prometheus would send it.
    public func fire(_ labels: [String: String]) async throws {
        let body = try JSONSerialization.data(withJSONObject: [["labels": labels, "annotations": ["summary": "posted by a test"]]])
        let response = try await HTTPClient().send(HTTPClientRequest(method: "POST", url: url + "/api/v2/alerts",
                                                                     headers: [("Content-Type", "application/json")], body: Array(body)))
        guard response.status == 200 else { throw SetupError("Alertmanager answered \(response.status) to an alert: \(response.text)") }
    }

    public func stop() { process.stop() }

    deinit { process.stop() }
}
