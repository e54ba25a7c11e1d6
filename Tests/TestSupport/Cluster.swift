import Foundation
import HTTPClient
import LocalServices

/// A running Redial cluster of separate processes for end-to-end tests: the telephony sandbox,
/// the API, the relay (with the reconciler) and workers, with REDIAL_TIME_SCALE shrinking every
/// delay. Uses the shared Redis and PostgreSQL; tests tell their data apart by site.
public final class Cluster: @unchecked Sendable {
    // @unchecked: `workers` changes only through the test's own calls, from one task.
    public let sandboxURL: String
    public let api: String
    public private(set) var environment: [String: String]
    private let sandbox: ChildProcess
    private var server: ChildProcess
    private var relay: ChildProcess
    private let apiPort: Int
    public private(set) var workers: [ChildProcess] = []
    private var started = 0

    /// - Parameter settings: more `REDIAL_*` variables for every process (they win over the defaults here).
    public init(workers count: Int = 2, timeScale: String = "0.01", smtpURL: String? = nil, settings: [String: String] = [:]) async throws {
        let sandboxPort = try LocalHost.freePort()
        let apiPort = try LocalHost.freePort()
        self.apiPort = apiPort
        sandboxURL = "http://127.0.0.1:\(sandboxPort)"
        api = "http://127.0.0.1:\(apiPort)"
        var environment = [
            "REDIAL_TIME_SCALE": timeScale, "REDIAL_SANDBOX_PORT": String(sandboxPort), "REDIAL_HTTP_PORT": String(apiPort),
            "REDIAL_TELEPHONY_URL": sandboxURL, "REDIAL_SMS_URL": sandboxURL, "REDIAL_PUBLIC_URL": api,
            "REDIAL_TELEPHONY_SECRET": Cluster.secret, "REDIAL_MAIL_FROM": "callbacks@redial.test",
        ]
        if let smtpURL { environment["REDIAL_SMTP_URL"] = smtpURL }
        environment.merge(settings) { _, new in new }
        self.environment = environment
        sandbox = try RedialBinary.start(["sandbox"], environment: environment, logName: "cluster-sandbox-\(sandboxPort)")
        server = try RedialBinary.start(["serve"], environment: environment, logName: "cluster-api-\(apiPort)")
        relay = try RedialBinary.start(["relay"], environment: environment, logName: "cluster-relay-\(apiPort)")
        for _ in 0..<count { try startWorker() }
        for url in [sandboxURL + "/healthz", api + "/healthz"] { try await Self.waitHealthy(url, else: "cluster did not start") }
    }

    public static let secret = "test-webhook-secret-0123456789"

    /// Waits up to 20 s for `url` to answer 200.
    private static func waitHealthy(_ url: String, else problem: String) async throws {
        guard try await eventually(timeout: .seconds(20), { (try? await HTTPClient().send(HTTPClientRequest(url: url)))?.status == 200 }) else {
            throw SetupError("\(problem): \(url)")
        }
    }

    @discardableResult
    public func startWorker() throws -> ChildProcess {
        started += 1
        let worker = try RedialBinary.start(["work", "--queues", "callbacks,notifications,recordings,reports", "--concurrency", "8"], environment: environment,
                                            logName: "cluster-worker-\(started)-\(UInt16.random(in: 0...UInt16.max))")
        workers.append(worker)
        return worker
    }

    public func replaceWorker(at index: Int, signal: Int32 = SIGKILL) throws {
        workers[index].stop(signal: signal)
        workers[index] = try startWorker()
        workers.removeLast()
    }

    /// A rolling restart onto `settings` (merged into every process's environment): the API,
    /// the relay, then each worker in turn, each stopped with SIGTERM (workers drain) and its
    /// successor started before the next goes, as a deploy does. The sandbox stays.
    public func roll(settings: [String: String]) async throws {
        environment.merge(settings) { _, new in new }
        server.stop(signal: SIGTERM)
        server = try RedialBinary.start(["serve"], environment: environment, logName: "cluster-api-\(apiPort)-\(UInt16.random(in: 0...UInt16.max))")
        try await Self.waitHealthy(api + "/healthz", else: "the API did not come back after a restart")
        relay.stop(signal: SIGTERM)
        relay = try RedialBinary.start(["relay"], environment: environment, logName: "cluster-relay-\(apiPort)-\(UInt16.random(in: 0...UInt16.max))")
        for index in workers.indices {
            try replaceWorker(at: index, signal: SIGTERM)
        }
    }

    public func stop() {
        for worker in workers { worker.stop(signal: SIGTERM) }
        relay.stop(signal: SIGTERM)
        server.stop(signal: SIGTERM)
        sandbox.stop(signal: SIGTERM)
    }

    /// The sandbox's own log of every SMS it sent.
    public func messages() async throws -> [[String: Any]] {
        let response = try await HTTPClient().send(HTTPClientRequest(url: sandboxURL + "/sandbox/sms"))
        return (try JSONSerialization.jsonObject(with: Data(response.body)) as? [[String: Any]]) ?? []
    }

    /// The sandbox's own log of every ring it made.
    public func rings() async throws -> [[String: Any]] {
        let response = try await HTTPClient().send(HTTPClientRequest(url: sandboxURL + "/sandbox/calls"))
        return (try JSONSerialization.jsonObject(with: Data(response.body)) as? [[String: Any]]) ?? []
    }
}
