import Foundation
import HTTPClient
import LocalServices
import Queue
import RedisClient
import Synchronization

/// The cluster under test: Redis and PostgreSQL of the chaos run's own (started by `make
/// chaos`), and sandbox, API, relay and workers as child processes the nemesis may kill. A killed
/// component is restarted by the scenario that killed it, as a supervisor would.
final class ChaosCluster: @unchecked Sendable {
    // @unchecked: the mutable state is in the two Mutexes; the rest is immutable after init.
    let environment: [String: String]
    let api: String
    let sandboxURL: String
    let runDirectory: String
    let redisPort: Int
    /// The Redis the cluster uses: the run's own server, or its sentinels (`sentinel`).
    let redisURL: RedisURL
    /// With a Sentinel topology (`make services-sentinel`): its two servers' ports and the sentinels'.
    let sentinel: (servers: [Int], sentinels: [Int])?
    /// With a Redis Cluster (`make services-cluster`): its six nodes' ports.
    let clusterNodes: [Int]?
    let postgresPort: Int
    private let components = Mutex<[String: ChildProcess]>([:])
    /// Components that run another build than `swift build`'s (a release's copy), by name.
    private let builds = Mutex<[String: String]>([:])
    private let restarts = Mutex(0)
    let workerCount: Int
    /// The SIP trunk (SIPp answering OPTIONS) the watchdogs probe.
    let sipPort: Int
    /// Two watchdogs: one active, one standing by to take over.
    let watchdogPorts: [Int]
    static let watchdogs = ["watchdog-0", "watchdog-1"]

    /// Set when the run has a network of its own (`Chaos/network.sh`): worker-0 lives in the
    /// namespace and reaches Redis, PostgreSQL and the sandbox at `address` over a veth pair.
    let network: (namespace: String, address: String)?

    /// - Parameter storage: settings of the object store recordings go to (`ObjectStore.settings`).
    init(runDirectory: String, redisPort: Int, postgresPort: Int, workers: Int, breakLedger: Bool,
         network: (namespace: String, address: String)?, storage: [String: String],
         sentinel: (servers: [Int], sentinels: [Int])? = nil, clusterNodes: [Int]? = nil, waitReplicas: Int = 0) throws {
        self.runDirectory = runDirectory
        self.redisPort = redisPort
        self.sentinel = sentinel
        self.clusterNodes = clusterNodes
        redisURL = sentinel.map { RedisURL(sentinels: $0.sentinels.map { RedisURL.Address(host: "127.0.0.1", port: $0) }, masterName: "redial") }
            ?? clusterNodes.map { RedisURL(clusterSeeds: $0.prefix(3).map { RedisURL.Address(host: "127.0.0.1", port: $0) }) }
            ?? RedisURL(host: "127.0.0.1", port: redisPort)
        self.postgresPort = postgresPort
        workerCount = workers
        let sandboxPort = try LocalHost.freePort()
        let apiPort = try LocalHost.freePort()
        api = "http://127.0.0.1:\(apiPort)"
        sipPort = try LocalHost.freePort()
        watchdogPorts = [try LocalHost.freePort(), try LocalHost.freePort()]
        self.network = network
        // With a network, the sandbox listens on the link's host address, which this host's own
        // processes reach as well as the namespaced worker.
        let sandboxHost = network?.address ?? "127.0.0.1"
        sandboxURL = "http://\(sandboxHost):\(sandboxPort)"
        var environment = [
            "REDIAL_REDIS_URL": redisURL.description, "REDIAL_REDIS_WAIT": String(waitReplicas),
            "REDIAL_DATABASE_URL": "postgres://redial@127.0.0.1:\(postgresPort)/redial",
            "REDIAL_TIME_SCALE": "0.01", "REDIAL_HTTP_PORT": String(apiPort), "REDIAL_SANDBOX_PORT": String(sandboxPort),
            "REDIAL_TELEPHONY_URL": sandboxURL, "REDIAL_SMS_URL": sandboxURL, "REDIAL_PUBLIC_URL": api,
            "REDIAL_LOG_LEVEL": "warning", "REDIAL_SANDBOX_HOST": sandboxHost,
            "REDIAL_SIP_TRUNKS": "edge=sip:trunk@127.0.0.1:\(sipPort)", "REDIAL_EXPECTED_WORKERS": String(workers),
            "REDIAL_BETA_SHARE": "0.5",  // while a release soaks (the release profile): half the callbacks go to beta
        ]
        if breakLedger { environment["REDIAL_UNSAFE_DIAL_WITHOUT_LEDGER"] = "1" }
        environment.merge(storage) { _, new in new }
        self.environment = environment
    }

    static func workerName(_ index: Int) -> String { "worker-\(index)" }
    /// Names this run's releases apart from earlier runs' (the run's database outlives it).
    let runStamp = String(Int(Date().timeIntervalSince1970))
    /// The beta channel's worker, started when a release begins to soak.
    static let betaWorker = "beta-worker-0"

    /// Size of every call recording in a chaos run: small, so the object store holds thousands.
    static let recordingBytes = 4096

    /// The worker that runs in the network namespace, when there is one.
    static let networkedWorker = workerName(0)

    func arguments(_ name: String) -> [String] {
        switch name {
        case "sandbox": ["sandbox"]
        case "api": ["serve"]
        case "relay": ["relay"]
        case _ where Self.watchdogs.contains(name): ["watchdog"]
        case Self.betaWorker: ["work", "--channel", "beta", "--queues", "callbacks,notifications,recordings,reports", "--concurrency", "16", "--shutdown-grace", "5"]
        // `default`: the noop jobs of the Sentinel and cluster profiles.
        default: ["work", "--queues", "callbacks,notifications,recordings,reports,default", "--concurrency", "16", "--shutdown-grace", "5"]
        }
    }

    func start(_ name: String) throws {
        let count = restarts.withLock { count in
            count += 1
            return count
        }
        if name == "trunk" {
            let scenario = LocalHost.repositoryRoot.appendingPathComponent("deploy/sipp/options-trunk.xml").path
            let process = try ChildProcess("/usr/bin/sipp", ["-sf", scenario, "-i", "127.0.0.1", "-p", String(sipPort), "-nostdin", "-m", "100000000"],
                                           logName: "chaos-trunk-\(count)")
            components.withLock { $0[name] = process }
            return
        }
        var environment = self.environment
        if let index = Self.watchdogs.firstIndex(of: name) {
            // Probes every 0.5 s and a lease of 0.6 s: the run's 0.01 would have them race the machine.
            environment["REDIAL_TIME_SCALE"] = "0.1"
            environment["REDIAL_WATCHDOG_PORT"] = String(watchdogPorts[index])
        }
        var launcher: [String] = []
        if let network, name == Self.networkedWorker {
            // Inside the namespace the services are at the link's host address.
            environment["REDIAL_REDIS_URL"] = "redis://\(network.address):\(redisPort)/0"
            environment["REDIAL_DATABASE_URL"] = "postgres://redial@\(network.address):\(postgresPort)/redial"
            launcher = ["ip", "netns", "exec", network.namespace]
        }
        let process = try RedialBinary.start(arguments(name), environment: environment, launcher: launcher,
                                             executable: builds.withLock { $0[name] }, logName: "chaos-\(name)-\(count)")
        components.withLock { $0[name] = process }
    }

    func startAll() async throws {
        for name in ["sandbox", "api", "relay", "trunk"] + Self.watchdogs + (0..<workerCount).map(Self.workerName) { try start(name) }
        let client = HTTPClient()
        for url in [sandboxURL + "/healthz", api + "/healthz"] {
            guard try await eventually(timeout: .seconds(30), { (try? await client.send(HTTPClientRequest(url: url)))?.status == 200 }) else {
                throw SetupError("chaos cluster did not start: \(url)")
            }
        }
    }

    /// Sends a signal to a component; with `restartAfter`, starts a fresh one after that delay.
    func hit(_ name: String, signal: Int32, restartAfter: Duration?) async throws {
        let process = components.withLock { $0[name] }
        if signal == SIGKILL { process?.stop(signal: SIGKILL) } else {
            process?.signal(signal)
            _ = await process?.waitForExit(timeout: .seconds(15))
            process?.stop()
        }
        if let restartAfter {
            try await Task.sleep(for: restartAfter)
            try start(name)
        }
    }

    /// Another build of Redial beside `swift build`'s, as a release ships one: a copy of it at
    /// a path of its own (its workers announce that path's build).
    func copyBuild(_ version: String) throws -> String {
        let path = runDirectory + "/redial-\(version)"
        try? FileManager.default.removeItem(atPath: path)
        try FileManager.default.copyItem(atPath: RedialBinary.path, toPath: path)
        return path
    }

    /// Starts `name` from `build` (or `swift build`'s, nil) from now on; restarts keep it.
    func use(_ build: String?, for name: String) {
        builds.withLock { $0[name] = build }
    }

    /// Stops a component for good (SIGTERM: a worker drains, hands back what outlives its
    /// grace); the end-of-run check does not expect it.
    func retire(_ name: String) async {
        guard let process = components.withLock({ $0.removeValue(forKey: name) }) else { return }
        process.signal(SIGTERM)
        _ = await process.waitForExit(timeout: .seconds(15))
        process.stop()
    }

    /// Whether a component is running now.
    func isRunning(_ name: String) -> Bool {
        components.withLock { $0[name]?.isRunning ?? false }
    }

    /// Production's live workers (by their heartbeats).
    func liveWorkers() async throws -> Int {
        let redis = RedisPool(configuration: RedisConfiguration(url: redisURL, poolSize: 1))
        let jobs = JobQueue(redis: redis)
        let live = try? await jobs.liveWorkers(queues: try await jobs.queues())
        await redis.close()
        guard let live else { throw SetupError("Redis unreachable: live workers unknown") }
        return live.values.filter { $0?.channel != .beta }.count
    }

    /// Components not running now, with how each ended. At the end of a run every one must be
    /// up: faults restart what they kill, so one that is down exited by itself.
    func notRunning() -> [String] {
        components.withLock { components in
            components.filter { !$0.value.isRunning }
                .map { "\($0.key) (exit \($0.value.process.terminationStatus), log .run/test-logs/\($0.value.logFile.lastPathComponent))" }
                .sorted()
        }
    }

    func stopAll() {
        for (_, process) in components.withLock({ $0 }) { process.stop(signal: SIGTERM) }
    }

    /// Runs `make <target>` for the chaos run's own services (Redis restart, PostgreSQL restart).
    func make(_ target: String) throws {
        let log = runDirectory + "/make-\(target).log"
        var arguments = ["make", "--no-print-directory", "-C", LocalHost.repositoryRoot.path, target,
                         "RUN=\(runDirectory)", "REDIS_PORT=\(redisPort)", "PG_PORT=\(postgresPort)",
                         "OPS=0"]  // the run has its own trunk, watchdogs and Prometheus
        if let sentinel {
            arguments += ["SENTINEL_MASTER_PORT=\(sentinel.servers[0])", "SENTINEL_REPLICA_PORT=\(sentinel.servers[1])",
                          "SENTINEL_PORTS=\(sentinel.sentinels.map(String.init).joined(separator: " "))"]
        }
        if let clusterNodes { arguments.append("CLUSTER_PORTS=\(clusterNodes.map(String.init).joined(separator: " "))") }
        if let network, let peer = ProcessInfo.processInfo.environment["CHAOS_NS_IP"] {
            arguments += ["LISTEN_EXTRA=\(network.address)", "TRUST_NET=\(peer)/32"]  // restarted services keep the link
        }
        let status = try Command.run(arguments, log: log)
        guard status == 0 else { throw SetupError("make \(target) exited \(status); see \(log)") }
    }

    /// `Chaos/network.sh <action>` (partition, heal, slow, fast) on the namespaced worker's link.
    /// A partition or slow-down is refused when that worker is not running: the fault would hit
    /// nothing and prove nothing. Healing never is: a link left down would break every later
    /// start of that worker.
    func network(_ action: String) throws {
        let breaking = ["partition", "slow", "cut-postgres"].contains(action)
        guard !breaking || components.withLock({ $0[Self.networkedWorker]?.isRunning }) == true else {
            throw SetupError("\(Self.networkedWorker), the namespaced worker, is not running; see its log in .run/test-logs")
        }
        let log = runDirectory + "/network.log"
        let status = try Command.run([LocalHost.repositoryRoot.appendingPathComponent("Chaos/network.sh").path, action], log: log)
        guard status == 0 else { throw SetupError("network.sh \(action) exited \(status); see \(log)") }
    }

    /// The watchdog holding the lease now (by its own `/metrics`), if any.
    func activeWatchdog() async -> String? {
        for (name, port) in zip(Self.watchdogs, watchdogPorts) {
            guard let response = try? await HTTPClient().send(HTTPClientRequest(url: "http://127.0.0.1:\(port)/metrics", timeout: .seconds(2))),
                  response.status == 200 else { continue }
            let line = response.text.split(separator: "\n").first { $0.hasPrefix("redial_watchdog_active ") }
            if line.flatMap({ Double($0.split(separator: " ").last ?? "") }) == 1 { return name }
        }
        return nil
    }

    func redisPID() -> Int32? { pid(file: "redis.pid") }

    /// The pid in a pid file of the run's services (`make services`, `make services-sentinel`).
    func pid(file: String) -> Int32? {
        (try? String(contentsOfFile: runDirectory + "/" + file, encoding: .utf8)).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// Sets the sandbox's faults; a switch the sandbox refused is a fault not injected. Every
    /// setting names the recordings' size too (a switch left out returns to its default, and
    /// the default 480 KB per call would fill the in-memory object store over a long run).
    func sandboxFaults(_ switches: String) async throws {
        var object = (try JSONSerialization.jsonObject(with: Data(switches.utf8)) as? [String: Any]) ?? [:]
        object["recording_bytes"] = object["recording_bytes"] ?? Self.recordingBytes
        let json = String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
        let response = try await HTTPClient().send(HTTPClientRequest(method: "POST", url: sandboxURL + "/sandbox/faults",
                                                                     headers: [("Content-Type", "application/json")], body: Array(json.utf8)))
        guard response.status == 200 else { throw SetupError("the sandbox refused faults \(json): \(response.status) \(response.text)") }
    }

    /// The Redis Cluster's nodes, to ask and reshard (cluster profile).
    func clusterAdmin() throws -> RedisClusterAdmin {
        guard let clusterNodes else { throw SetupError("a Redis Cluster fault needs the cluster profile (PROFILE=cluster)") }
        return RedisClusterAdmin(ports: clusterNodes)
    }

    /// The port of the server the sentinels name master now (nil: none answered).
    func sentinelMaster() async -> Int? {
        for port in sentinel?.sentinels ?? [] {
            let connection = RedisConnection(configuration: RedisConfiguration(url: RedisURL(host: "127.0.0.1", port: port),
                                                                               connectTimeout: .milliseconds(500)))
            let reply = try? await connection.send("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "redial").array
            await connection.close()
            if let reply, reply.count == 2, let port = reply[1].string.flatMap({ Int($0) }) { return port }
        }
        return nil
    }

    /// Runs a command on the chaos run's Redis (its master, under Sentinel).
    func redis(_ arguments: String...) async throws -> RedisValue {
        let connection = RedisConnection(configuration: RedisConfiguration(url: redisURL))
        defer { Task { await connection.close() } }
        return try await connection.send(arguments)
    }
}

