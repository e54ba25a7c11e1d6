import ArgumentParser
import Domain
import Foundation
import HTTPClient
import LocalServices
import PostgresClient
import Providers
import Queue
import RedisClient
import Synchronization

/// `make chaos`: a generator posts callbacks through the API while a nemesis injects faults into a
/// real cluster; after the load the cluster settles and the checker verifies the invariants from
/// PostgreSQL, Redis and the sandbox's own ring log. Writes Chaos/reports/<time>/ and prints a
/// one-line verdict last; exits non-zero on any violation.
@main
struct ChaosRun: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "redial-chaos", abstract: "Run the chaos suite (through `make chaos`).")

    @Option(help: "smoke (about 2 minutes), full (10 minutes of faults), release (2 minutes: beta started, rolled back, promoted during faults) or network (2 minutes of network faults, root).")
    var profile = "smoke"
    @Option(help: "Directory of the run's own Redis/PostgreSQL (make chaos sets it).") var runDirectory: String
    @Option(help: "Port of the run's Redis.") var redisPort: Int
    @Option(help: "Port of the run's PostgreSQL.") var postgresPort: Int
    @Option(help: "Where reports go.") var reports = "Chaos/reports"
    @Flag(help: "Deliberately broken build: dial without the effect ledger's idempotency key (the checker must catch it).")
    var breakLedger = false
    @Option(help: "Network namespace of worker-0 (make chaos creates it for the full profile when root).") var networkNamespace: String?
    @Option(help: "Host address of the namespace's veth link, where the services listen too.") var networkAddress: String?
    @Option(help: "Sentinel profiles: the two Redis servers' ports, then the three sentinels' (make chaos sets them).")
    var sentinelPorts: String?
    @Option(help: "Cluster profile: the six Redis Cluster nodes' ports (make chaos sets them).")
    var clusterPorts: String?

    func run() async throws {
        let network = networkNamespace.flatMap { namespace in networkAddress.map { (namespace: namespace, address: $0) } }
        guard let plan = ["smoke": Profile.smoke, "full": Profile.full(network: network != nil), "release": Profile.release,
                          "network": Profile.network, "sentinel": Profile.sentinel(wait: true),
                          "sentinel-async": Profile.sentinel(wait: false), "cluster": Profile.cluster][profile] else {
            throw ValidationError("--profile: expected smoke, full, release, network, sentinel, sentinel-async or cluster, got \(profile)")
        }
        let nodes = (clusterPorts ?? "").split(separator: ",").compactMap { Int($0) }
        if plan.cluster && nodes.count != 6 {
            throw ValidationError("--profile cluster needs --cluster-ports with six ports (make chaos PROFILE=cluster sets them)")
        }
        let ports = (sentinelPorts ?? "").split(separator: ",").compactMap { Int($0) }
        if plan.sentinel && ports.count != 5 {
            throw ValidationError("--profile \(plan.name) needs --sentinel-ports master,replica,s1,s2,s3 (make chaos PROFILE=\(plan.name) sets them)")
        }
        if plan.name == "network" && network == nil {
            throw ValidationError("--profile network needs --network-namespace and --network-address (make chaos PROFILE=network, as root)")
        }
        if plan.name == "full" && network == nil {
            let reason = (try? String(contentsOfFile: runDirectory + "/network.log", encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            log("network faults skipped: no network namespace (\(reason.isEmpty ? "make chaos sets one up as root" : reason))")
        }
        // Recordings go to a real S3-compatible store, reachable from the namespaced worker too.
        let store = try await ObjectStore(host: network?.address ?? "127.0.0.1")
        defer { store.stop() }
        let bucket = "chaos-recordings"
        let storage = S3ObjectStorage(baseURL: store.url, bucket: bucket, region: "us-east-1", accessKey: "test-key", secretKey: "test-secret")
        try await storage.ensureBucket()
        let cluster = try ChaosCluster(runDirectory: runDirectory, redisPort: redisPort, postgresPort: postgresPort,
                                       workers: plan.workers, breakLedger: breakLedger, network: network, storage: store.settings(bucket: bucket),
                                       sentinel: plan.sentinel ? (Array(ports.prefix(2)), Array(ports.suffix(3))) : nil,
                                       clusterNodes: plan.cluster ? nodes : nil, waitReplicas: plan.waitReplicas)
        let database = PostgresPool(configuration: PostgresConfiguration(
            url: PostgresURL(host: "127.0.0.1", port: postgresPort, user: "redial", database: "redial"), poolSize: 2))
        // The product's own migration, which also seals rows a run before sealing left in clear.
        let migrated = try await RedialBinary.run(["migrate"], environment: [
            "REDIAL_DATABASE_URL": "postgres://redial@127.0.0.1:\(postgresPort)/redial", "REDIAL_REDIS_URL": cluster.redisURL.description])
        guard migrated.status == 0 else { throw ValidationError("redial migrate failed: \(migrated.output)") }
        // Each run checks its own callbacks: what earlier runs left waiting (the closed site's, a
        // run cut short) is canceled, or a fresh Redis (the Sentinel profiles') would have the
        // reconciler dial it again, beside this run's load.
        try await database.query("UPDATE callbacks SET status = 'canceled', updated_at = now() WHERE status IN ('queued', 'scheduled', 'dialing', 'retry_wait')")
        let sites = try await ChaosSites.make(database: database, rate: plan.requestsPerSecond)
        try await cluster.startAll()
        let alertWatch = try await AlertWatch(runDirectory: runDirectory, watchdogPorts: cluster.watchdogPorts)
        defer { alertWatch.stop() }
        // A quiet start: a watchdog active and scraped, no alert firing, before the first fault.
        guard try await eventually(timeout: .seconds(30), every: .seconds(1), { try await alertWatch.quiet() }) else {
            throw SetupError("alerts firing before any fault: \(try await alertWatch.firing().map(\.alert).joined(separator: ", "))")
        }
        try await cluster.sandboxFaults("{}")  // the recordings' size
        log("profile \(plan.name): \(plan.loadSeconds) s of load at \(plan.requestsPerSecond)/s, \(plan.schedule.count) faults, \(plan.workers) workers"
            + (breakLedger ? "; BROKEN BUILD: dialling without the effect ledger" : ""))

        let started = Date()
        let record = RunRecord(started: started)
        let load = Task { await LoadGenerator(api: cluster.api, sites: sites, rate: plan.requestsPerSecond, seconds: plan.loadSeconds, record: record).run() }
        let sampler = Task { await Sampler(database: database, sites: sites, record: record).run() }
        var redisConfiguration = RedisConfiguration(url: cluster.redisURL, poolSize: 2)
        redisConfiguration.replicas = plan.waitReplicas
        let noopPool = RedisPool(configuration: redisConfiguration)
        let noops = Task { await NoopLoad(jobs: JobQueue(redis: noopPool), rate: plan.noopPerSecond, seconds: plan.loadSeconds, record: record).run() }
        for (at, fault) in plan.schedule {
            let wait = started.addingTimeInterval(TimeInterval(at)).timeIntervalSinceNow
            if wait > 0 { try await Task.sleep(for: .milliseconds(Int64(wait * 1000))) }
            let begin = Date()
            log("fault at \(at) s: \(fault.name)")
            do {
                try await fault.inject(cluster)
            } catch {
                log("fault \(fault.name) could not be injected: \(error)")
                record.injectionFailed("\(fault.name) at \(at) s: \(error)")
            }
            record.fault(fault, start: begin.timeIntervalSince(started), end: Date().timeIntervalSince(started))
        }
        await load.value
        await noops.value
        log("load done: \(record.acceptedIDs.count) accepted"
            + (plan.noopPerSecond > 0 ? ", \(record.noopIDs.count) noop jobs acknowledged" : "") + "; settling (up to \(plan.settleSeconds) s)")
        let settled = try await settle(database: database, ids: record.acceptedIDs, seconds: plan.settleSeconds)
        // Let the reapers finish with the workers killed last (heartbeat TTL 1 s, passes every 0.5 s).
        try await Task.sleep(for: .seconds(3))
        sampler.cancel()
        // The alerts the faults raised resolve once the cluster is whole: wait for the pages to end.
        _ = try await eventually(timeout: .seconds(60), every: .seconds(1)) {
            try await !alertWatch.firing().contains { $0.severity == "page" }
        }
        let stillFiring = try await alertWatch.firing()
        let alerts = AlertWatch.attribute(try await alertWatch.spans(since: started), to: record.faults)
        let checker = Checker(database: database, redis: noopPool, sandboxURL: cluster.sandboxURL, sites: sites, storage: storage,
                              waitReplicas: plan.waitReplicas)
        var verdict = try await checker.check(accepted: record.acceptedIDs, acceptedClosed: record.acceptedClosedIDs, settledAfter: settled,
                                              record: record)
        // A fault that was not injected leaves its invariant untested: the run proves less than it claims.
        if !record.injectionFailures.isEmpty {
            verdict.violations.append("\(record.injectionFailures.count) faults could not be injected: "
                                      + record.injectionFailures.joined(separator: "; "))
        }
        verdict.alerts = alerts
        verdict.violations += AlertWatch.violations(alerts, faults: record.faults, stillFiring: stillFiring)
        verdict.componentsDown = cluster.notRunning()
        if !verdict.componentsDown.isEmpty {
            verdict.violations.append("not running at the end, exited by themselves: \(verdict.componentsDown.joined(separator: "; "))")
        }
        cluster.stopAll()
        let directory = try Report.write(verdict: verdict, record: record, profile: plan, broken: breakLedger, to: reports)
        print(Report.verdictLine(verdict, directory: directory))
        await database.close()
        if !verdict.violations.isEmpty { throw ExitCode(1) }
    }

    /// Waits until every accepted callback is terminal; returns the seconds it took (nil: never).
    func settle(database: PostgresPool, ids: [String], seconds: Int) async throws -> Double? {
        let start = Date()
        while Date().timeIntervalSince(start) < Double(seconds) {
            let open = try await Checker.openCount(database, ids: ids)
            if open == 0 { return Date().timeIntervalSince(start) }
            try await Task.sleep(for: .milliseconds(500))
        }
        return nil
    }
}

func log(_ text: String) {
    FileHandle.standardError.write(Data("chaos: \(text)\n".utf8))
}

/// What happened during the run: accepted ids, faults, and the timeline samples.
final class RunRecord: Sendable {
    struct Sample: Sendable, Encodable {
        let t: Double
        let accepted: Int
        let terminal: Int
    }

    struct FaultSpan: Sendable, Encodable {
        let name: String
        let start: Double
        let end: Double
        /// Alerts it must raise, and those it may.
        let expectedAlerts: [String]
        let explains: [String]
    }

    let started: Date
    private let state = Mutex<(ids: [String], closedIDs: [String], refused: [Int: Int], samples: [Sample], faults: [FaultSpan],
                               failures: [String], noopIDs: [String], noopRefused: Int)>(([], [], [:], [], [], [], [], 0))

    init(started: Date) { self.started = started }

    func accepted(_ id: String, closed: Bool = false) {
        state.withLock { if closed { $0.closedIDs.append(id) } else { $0.ids.append(id) } }
    }
    func refused(status: Int) { state.withLock { $0.refused[status, default: 0] += 1 } }
    func sample(_ sample: Sample) { state.withLock { $0.samples.append(sample) } }
    func fault(_ fault: any Fault, start: Double, end: Double) {
        state.withLock { $0.faults.append(.init(name: fault.name, start: start, end: end, expectedAlerts: fault.expectedAlerts, explains: fault.explains)) }
    }

    func injectionFailed(_ description: String) { state.withLock { $0.failures.append(description) } }
    func noop(acknowledged id: String?) { state.withLock { if let id { $0.noopIDs.append(id) } else { $0.noopRefused += 1 } } }

    var acceptedIDs: [String] { state.withLock { Array(Set($0.ids)) } }
    /// Accepted by the site that is closed for the whole run.
    var acceptedClosedIDs: [String] { state.withLock { Array(Set($0.closedIDs)) } }
    var injectionFailures: [String] { state.withLock { $0.failures } }
    /// Noop jobs whose enqueue was acknowledged, and how many enqueues were not.
    var noopIDs: [String] { state.withLock { $0.noopIDs } }
    var noopRefused: Int { state.withLock { $0.noopRefused } }
    var refusals: [Int: Int] { state.withLock { $0.refused } }
    var samples: [Sample] { state.withLock { $0.samples } }
    var faults: [FaultSpan] { state.withLock { $0.faults } }
}

/// Posts callbacks at a steady rate: mostly answered numbers, and every magic kind, spread over
/// the open sites, one in ten to the closed one, each from a client address of its own (the API
/// trusts loopback as a proxy, so `X-Forwarded-For` names the client the limits count).
struct LoadGenerator: Sendable {
    let api: String
    let sites: ChaosSites
    let rate: Double
    let seconds: Int
    let record: RunRecord

    /// Last digits, weighted: answered, busy, busy-then-answered, no webhook, slow, invalid, 503.
    static let digits = [0, 0, 0, 0, 0, 8, 9, 1, 4, 5, 6, 7, 3, 2]

    func run() async {
        let client = HTTPClient()
        let start = Date()
        var sent = 0
        await withTaskGroup(of: Void.self) { group in
            while Date().timeIntervalSince(start) < Double(seconds) {
                let due = Int(Date().timeIntervalSince(start) * rate)
                while sent < due {
                    sent += 1
                    let phone = "+7998\(String(format: "%06d", Int.random(in: 0..<1_000_000)))\(Self.digits.randomElement()!)"
                    let closed = sent % 10 == 0
                    let key = closed ? sites.closedKey : sites.openKeys[sent % sites.openKeys.count]
                    let clientAddress = "198.18.\(Int.random(in: 0...255)).\(Int.random(in: 1...254))"
                    group.addTask {
                        let body = #"{"phone": "\#(phone)"}"#
                        let response = try? await client.send(HTTPClientRequest(
                            method: "POST", url: api + "/v1/callbacks",
                            headers: [("X-Site-Key", key), ("Content-Type", "application/json"), ("Idempotency-Key", phone),
                                      ("X-Forwarded-For", clientAddress)],
                            body: Array(body.utf8), timeout: .seconds(10)))
                        guard let response else { return record.refused(status: 0) }
                        if response.status == 202 || response.status == 200,
                           let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
                           let id = object["id"] as? String {
                            record.accepted(id, closed: closed)
                        } else {
                            record.refused(status: response.status)
                        }
                    }
                }
                try? await Task.sleep(for: .milliseconds(50))
            }
        }
    }
}

/// Enqueues noop jobs straight into Redis at a steady rate, one at a time; each enqueue that
/// returned (acknowledged: on the master's AOF, and with WAIT on a replica) is recorded, each that
/// failed (Redis failing over, a replica that did not confirm) is counted as not acknowledged.
struct NoopLoad: Sendable {
    let jobs: JobQueue
    let rate: Double
    let seconds: Int
    let record: RunRecord

    func run() async {
        guard rate > 0 else { return }
        let start = ContinuousClock.now
        var sent = 0
        while ContinuousClock.now < start + .seconds(seconds) {
            sent += 1
            let receipt = try? await jobs.enqueue(JobQueue.Request(type: "noop", payload: #"{"n":\#(sent)}"#, policy: JobPolicy(queue: "default")))
            record.noop(acknowledged: receipt?.id)
            try? await Task.sleep(until: start + .seconds(Double(sent) / rate))
        }
    }
}

/// Samples accepted and terminal counts of the open sites twice a second for the timeline.
struct Sampler: Sendable {
    let database: PostgresPool
    let sites: ChaosSites
    let record: RunRecord

    func run() async {
        while !Task.isCancelled {
            let terminal = (try? await database.query("""
                SELECT count(*)::int AS n FROM callbacks
                WHERE site_id = ANY(ARRAY(SELECT jsonb_array_elements_text($1::jsonb))::uuid[]) AND status IN ('completed', 'failed', 'canceled')
                """, [sites.openIDsJSON]).first?.decode("n", as: Int.self)) ?? -1
            if terminal >= 0 {
                record.sample(.init(t: Date().timeIntervalSince(record.started), accepted: record.acceptedIDs.count, terminal: terminal))
            }
            try? await Task.sleep(for: .milliseconds(500))
        }
    }
}
