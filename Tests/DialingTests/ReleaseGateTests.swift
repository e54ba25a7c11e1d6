import CryptoPrimitives
import Domain
import Foundation
import HTTPClient
import LocalServices
import PostgresClient
import Providers
import Queue
import RedisClient
import Testing
import TestSupport

/// The release gate with two builds side by side: production's workers and a beta build's
/// (`redial up --channel beta --binary`), half the callbacks sent to beta while a release soaks.
/// A bad beta (it fails 20 % of its `callback.dial` runs: REDIAL_UNSAFE_FAIL_DIALS) is rolled
/// back by the watchdog for its failure rate, and its promotion refused; a good one is refused
/// only until its window has passed and both sides have their samples. On a Redis and a database of its own: the gate counts every job and attempt there.
/// REDIAL_TIME_SCALE=0.01: a 10-minute window is 6 s. Part of the serialized dial suite: beside
/// another suite's cluster, a loaded machine let heartbeats (scaled to milliseconds) lapse, and the
/// gate rightly counted the recoveries against a sound beta (a CI run).
extension DialFlowTests {
    struct GateReport: Decodable {
        struct Metric: Decodable {
            let name: String
            let verdict: String
            let productionSamples: Int
            let betaSamples: Int
        }
        let state: String
        let metrics: [Metric]
        let reasons: [String]
    }

    @Test func aBadBetaIsRefusedForItsFailureRateAndAGoodOneIsPromotedOnlyAfterItsSoak() async throws {
        let redis = try await PrivateRedis()
        let databaseURL = try await TestServices.database("gate")
        let migrated = try await RedialBinary.run(["migrate"], environment: ["REDIAL_DATABASE_URL": databaseURL])
        try #require(migrated.status == 0, "\(migrated.output)")
        let store = try await ObjectStore()
        let bucket = "gate-" + String(UInt32.random(in: 0...UInt32.max))
        try await S3ObjectStorage(baseURL: store.url, bucket: bucket, region: "us-east-1", accessKey: "test-key", secretKey: "test-secret")
            .ensureBucket()
        var settings = store.settings(bucket: bucket)
        settings["REDIAL_REDIS_URL"] = redis.url.description
        settings["REDIAL_DATABASE_URL"] = databaseURL
        settings["REDIAL_BETA_SHARE"] = "0.5"
        let cluster = try await Cluster(workers: 2, settings: settings)
        let database = PostgresPool(configuration: PostgresConfiguration(url: try PostgresURL(parsing: databaseURL), poolSize: 2))
        let betaBuild = FileManager.default.temporaryDirectory.appendingPathComponent("redial-beta-\(UUID().uuidString.prefix(8))")
        try FileManager.default.copyItem(atPath: RedialBinary.path, toPath: betaBuild.path)
        var beta = try Self.beta(betaBuild, cluster, failing: true)
        // The watchdog reads the gate every 1.5 s and rolls a measurably worse beta back; it looks
        // at Alertmanager's alerts for the gate too (none fire here: no Prometheus).
        let alertmanager = try await PrivateAlertmanager()
        let watchdogPort = try LocalHost.freePort()
        var watchdogEnvironment = cluster.environment
        watchdogEnvironment["REDIAL_ALERTMANAGER_URL"] = alertmanager.url
        watchdogEnvironment["REDIAL_TIME_SCALE"] = "0.1"
        watchdogEnvironment["REDIAL_WATCHDOG_PORT"] = String(watchdogPort)
        let watchdog = try RedialBinary.start(["watchdog"], environment: watchdogEnvironment, logName: "gate-watchdog-\(watchdogPort)")
        defer {
            watchdog.stop(signal: SIGTERM)
            alertmanager.stop()
            beta.stop(signal: SIGTERM)
            cluster.stop()
            store.stop()
            redis.stop()
            try? FileManager.default.removeItem(at: betaBuild)
        }
        var new = SiteStore.NewSite(name: "Gate", managers: ["+79160000001"])
        new.balanceMinutes = 100_000
        new.limits = ["client_numbers_per_hour": 100_000, "client_numbers_per_day": 100_000, "site_per_minute": 100_000, "site_per_day": 100_000]
        let (_, key) = try await SiteStore(database: database, protection: .development).create(new)
        let environment = cluster.environment
        func release(_ arguments: [String]) async throws -> (status: Int32, output: String) {
            try await RedialBinary.run(["release"] + arguments, environment: environment)
        }
        func report(_ version: String) async throws -> GateReport {
            let status = try await release(["status", version, "--json"])
            let line = try #require(status.output.split(separator: "\n").last { $0.hasPrefix("{") }, "\(status.output)")
            return try JSONDecoder().decode(GateReport.self, from: Data(line.utf8))
        }
        /// `count` callbacks, about half of them to beta, all the way to their end.
        func load(_ count: Int) async throws {
            var ids: [String] = []
            for index in 0..<count {
                let phone = "+7999\(String(format: "%06d", Int.random(in: 0..<1_000_000)))0"
                let response = try await HTTPClient().send(HTTPClientRequest(method: "POST", url: cluster.api + "/v1/callbacks",
                    headers: [("X-Site-Key", key), ("Content-Type", "application/json"), ("X-Forwarded-For", "198.51.100.\(index % 250 + 1)")],
                    body: Array(#"{"phone": "\#(phone)"}"#.utf8)))
                let object = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
                ids.append(try #require(object?["id"] as? String, "\(response.status) \(response.text)"))
            }
            let ended = try await eventually(timeout: .seconds(120), every: .milliseconds(500)) {
                try await database.query("""
                    SELECT count(*)::int AS n FROM callbacks WHERE id = ANY(ARRAY(SELECT jsonb_array_elements_text($1::jsonb))::uuid[])
                      AND status = 'completed'
                    """, [String(decoding: try JSONSerialization.data(withJSONObject: ids), as: UTF8.self)])[0].decode("n", as: Int.self) == ids.count
            }
            #expect(ended, "every callback of the load completed, beta's failures retried")
        }

        // The bad beta: refused before its soak; once its failure rate shows, the watchdog rolls it
        // back by itself (every callback still completes: beta's failures are retried).
        #expect(try await release(["start", "bad-1", "--window", "10m"]).status == 0)
        let early = try await release(["promote", "bad-1"])
        #expect(early.status == 1 && early.output.contains("the soak is incomplete"), "\(early.output)")
        // 200: a fifth of beta's dial runs failing is some 5 % of all its jobs, and at 100 callbacks
        // chance alone sometimes left that within the gate's slack (2 points) or its significance test.
        try await load(200)
        let rolledBack = try await eventually(timeout: .seconds(30), every: .milliseconds(500)) { try await report("bad-1").state == "rolled_back" }
        #expect(rolledBack, "the watchdog rolled the bad beta back")
        let bad = try await report("bad-1")
        let failures = try #require(bad.metrics.first { $0.name == "job failure rate" })
        #expect(failures.verdict == "fail" && failures.betaSamples >= 100 && failures.productionSamples >= 100, "\(bad)")
        // The calls themselves went through (the rollback may come before beta has 30 ended attempts).
        #expect(["pass", "insufficient"].contains(bad.metrics.first { $0.name.hasPrefix("dial success") }?.verdict ?? ""))
        let why = try await database.query("SELECT actor, reason FROM release_events WHERE version = 'bad-1' AND action = 'rollback'")
        #expect(try why.first?.decode("actor", as: String.self) == "watchdog")
        #expect(try why.first?.decode("reason", as: String.self).contains("job failure rate: beta") == true)
        #expect(try await eventually(timeout: .seconds(10)) {
            let metrics = try await HTTPClient().send(HTTPClientRequest(url: "http://127.0.0.1:\(watchdogPort)/metrics")).text
            return metrics.contains(#"redial_release_rollbacks_total{by="watchdog"} 1"#)
        })
        let refused = try await release(["promote", "bad-1"])
        #expect(refused.status == 1 && refused.output.contains("release bad-1 is rolled_back, not soaking"), "\(refused.output)")

        // The good beta: the same build without the fault, once the bad one's workers are gone
        // (what they still did would count in the good one's window).
        beta.stop(signal: SIGTERM)
        let redisPool = RedisPool(configuration: RedisConfiguration(url: redis.url, poolSize: 1))
        let jobs = JobQueue(redis: redisPool)
        let gone = try await eventually(timeout: .seconds(30), every: .milliseconds(200)) {
            try await jobs.liveWorkers(queues: try await jobs.queues()).values.allSatisfy { $0?.channel != .beta }
        }
        #expect(gone, "the bad beta's workers left")
        // Nothing is left where no worker comes: what waited on beta (and what its workers handed
        // back as they stopped) moved to production's queues.
        let home = try await eventually(timeout: .seconds(30), every: .milliseconds(300)) {
            for queue in try await jobs.queues() where queue.hasSuffix("@beta") {
                let stats = try await jobs.stats(queue: queue)
                if stats.ready + stats.delayed > 0 { return false }
            }
            return true
        }
        #expect(home, "beta's waiting jobs moved to production")
        beta = try Self.beta(betaBuild, cluster, failing: false)
        // Whatever a bad worker still held is recovered by the good one's reaper (only a beta
        // worker reaps beta's queues): let that happen before the good release's window opens.
        let settled = try await eventually(timeout: .seconds(30), every: .milliseconds(200)) {
            guard try await jobs.liveWorkers(queues: try await jobs.queues()).values.contains(where: { $0?.channel == .beta }) else { return false }
            for queue in try await jobs.queues() where queue.hasSuffix("@beta") {
                if try await jobs.stats(queue: queue).active > 0 { return false }
            }
            return true
        }
        #expect(settled, "the good beta serves and holds nothing of the bad one's")
        await redisPool.close()
        #expect(try await release(["start", "good-1", "--window", "10m"]).status == 0)
        let soon = try await release(["promote", "good-1"])
        #expect(soon.status == 1 && soon.output.contains("the soak is incomplete") && soon.output.contains("too few samples"), "\(soon.output)")
        try await load(100)
        // A p99 of run times needs 1000 runs of a job type a side, and the callbacks' few
        // hundred runs of each are too few: both channels also run 6000 no-op jobs, as a site's
        // background jobs would, paced so neither process is flooded (run times stretch with a
        // process's load as well as with its build).
        let padding = JobQueue(redis: RedisPool(configuration: RedisConfiguration(url: redis.url, poolSize: 1)))
        var noop = JobPolicy()
        for _ in 0..<12 {
            for channel in [WorkerRelease.Channel.production, .beta] {
                noop.queue = channel.queue("reports")  // a queue both channels' workers serve here
                _ = try await padding.enqueue(batch: (0..<500).map { _ in .init(type: "noop", policy: noop) })
            }
            _ = try await eventually(timeout: .seconds(30), every: .milliseconds(100)) {
                try await padding.stats(queue: "reports").ready + padding.stats(queue: "reports@beta").ready == 0
            }
        }
        // Promotable once the window has passed and every metric has its samples (messages
        // count once the carrier reports their delivery).
        let soaked = try await eventually(timeout: .seconds(60), every: .milliseconds(500)) { try await report("good-1").reasons.isEmpty }
        let after = try await report("good-1")
        #expect(soaked, "\(after.reasons)")
        #expect(after.metrics.count == 7 && after.metrics.allSatisfy { ["pass", "no_data"].contains($0.verdict) }, "\(after)")
        let promoted = try await release(["promote", "good-1"])
        #expect(promoted.status == 0 && promoted.output.contains("release good-1: promoted"), "\(promoted.output)")

        // The history: who did what, refusals with their reasons.
        let events = try await database.query("SELECT version || ':' || action AS event FROM release_events ORDER BY id")
            .map { try $0.decode("event", as: String.self) }
        #expect(events == ["bad-1:start", "bad-1:refused", "bad-1:rollback", "good-1:start", "good-1:refused", "good-1:promote"],
                "\(events)")
        await database.close()
    }

    /// Beta's workers from `build`; a failing one fails 20 % of its dial runs.
    static func beta(_ build: URL, _ cluster: Cluster, failing: Bool) throws -> ChildProcess {
        var environment = cluster.environment
        if failing { environment["REDIAL_UNSAFE_FAIL_DIALS"] = "0.2" }
        return try RedialBinary.start(["up", "--channel", "beta", "--binary", build.path, "--workers", "1"], environment: environment,
                                      logName: "gate-beta-\(failing ? "bad" : "good")-\(UInt16.random(in: 0...UInt16.max))")
    }
}
