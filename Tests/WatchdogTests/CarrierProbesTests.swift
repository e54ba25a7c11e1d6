import Foundation
import HTTPClient
import LocalServices
import PostgresClient
import Queue
import RedisClient
import Testing
import TestSupport

/// A carrier whose API and trunk answer but which connects no call: the watchdog's test call and
/// the answer ratio over real attempts see it, dialing pauses, and it resumes once a test call is
/// answered again. A whole cluster on a Redis and a database of its own (the ratio counts every
/// attempt in the database, and the pause is of its dial queue). REDIAL_TIME_SCALE=0.1: a test
/// call every 6 s, the ratio over the last 30 s every 1.5 s.
@Suite struct CarrierProbesTests {
    @Test func aCarrierThatConnectsNoCallIsFoundByTheTestCallAndTheAnswerRatioAndDialingWaitsForIt() async throws {
        let redis = try await PrivateRedis()
        let database = try await TestServices.database("watchdog_carrier")
        let migrated = try await RedialBinary.run(["migrate"], environment: ["REDIAL_DATABASE_URL": database])
        try #require(migrated.status == 0, "\(migrated.output)")
        let settings = ["REDIAL_REDIS_URL": redis.url.description, "REDIAL_DATABASE_URL": database]
        let cluster = try await Cluster(workers: 1, timeScale: "0.1", settings: settings)
        let watchdogPort = try LocalHost.freePort()
        func startWatchdog(_ name: String) throws -> ChildProcess {
            try RedialBinary.start(["watchdog"], environment: cluster.environment.merging([
                "REDIAL_WATCHDOG_PORT": String(watchdogPort), "REDIAL_LOG_LEVEL": "debug",
            ]) { _, new in new }, logName: "carrier-watchdog-\(name)-\(watchdogPort)")
        }
        var watchdog = try startWatchdog("healthy")
        let pool = RedisPool(configuration: RedisConfiguration(url: redis.url, poolSize: 1))
        let attempts = PostgresPool(configuration: PostgresConfiguration(url: try PostgresURL(parsing: database), poolSize: 1))
        defer { watchdog.stop(); cluster.stop(); redis.stop() }
        let jobs = JobQueue(redis: pool)
        func sample(_ name: String) async -> Double? { await WatchdogProcessTests.sample(watchdogPort, name) }
        let testCall = #"redial_probe_success{probe="synthetic_call",target="telephony"}"#
        let testCallUp = #"redial_probe_up{probe="synthetic_call",target="telephony"}"#
        let ratioUp = #"redial_probe_up{probe="answer_ratio",target="telephony"}"#

        // A test call is placed and answered, and it rang nobody: the sandbox's ring log has none.
        #expect(try await eventually(timeout: .seconds(30)) { await sample(testCall) == 1 })
        #expect(try await cluster.rings().isEmpty)
        #expect(await sample(ratioUp) == 1)

        // The carrier takes calls and fails every one; ten visitors ask for a call. The watchdog
        // is away until their attempts have failed: its test call would otherwise pause dialing
        // before a loaded machine had made the ten attempts the ratio needs.
        watchdog.stop(signal: SIGTERM)
        let faults = try await HTTPClient().send(HTTPClientRequest(method: "POST", url: cluster.sandboxURL + "/sandbox/faults",
                                                                   body: Array(#"{"calls_fail": true}"#.utf8)))
        try #require(faults.status == 200, "\(faults.text)")
        let site = try await RedialBinary.run(["sites", "add", "--name", "Carrier", "--manager", "+79990000001", "--balance-minutes", "100", "--json"],
                                              environment: settings)
        let line = try #require(site.output.split(separator: "\n").last { $0.hasPrefix("{") }, "\(site.output)")
        let key = try #require((try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["site_key"] as? String)
        let visitors = (0..<10).map { _ in "+7999\(String(format: "%06d", Int.random(in: 0..<1_000_000)))0" }
        for (index, visitor) in visitors.enumerated() {
            let accepted = try await HTTPClient().send(HTTPClientRequest(method: "POST", url: cluster.api + "/v1/callbacks",
                headers: [("X-Site-Key", key), ("Content-Type", "application/json"), ("X-Forwarded-For", "192.0.2.\(index + 1)")],
                body: Array(#"{"phone": "\#(visitor)"}"#.utf8)))
            #expect(accepted.status == 202, "\(accepted.text)")
        }
        #expect(try await eventually(timeout: .seconds(60), every: .milliseconds(200)) {
            let rows = try await attempts.query("""
                SELECT count(*)::int AS n FROM attempts WHERE outcome = 'network_failure' AND ended_at > now() - interval '20 seconds'
                """)
            return try rows.first?.decode("n", as: Int.self) ?? 0 >= 10
        }, "ten attempts failed by the carrier")
        await attempts.close()
        watchdog = try startWatchdog("carrier-down")

        // The ratio goes down (none answered, all failed by the carrier), the test call too, and
        // dialing pauses: the callbacks wait instead of spending their attempts.
        // A fresh watchdog shows every gauge at 0 until its first check: the verdict counts once
        // that check's counts are in the same scrape (a "down" read before them was the zero).
        let carrierFailed = #"redial_dial_attempts_recent{result="carrier_failed"}"#
        var downScrape: [String: Double] = [:]
        #expect(try await eventually(timeout: .seconds(30)) {
            downScrape = await WatchdogProcessTests.scrape(watchdogPort)
            return downScrape[ratioUp] == 0 && downScrape[carrierFailed] != nil
        })
        #expect(downScrape[carrierFailed] ?? 0 >= 10, "\(downScrape)")
        #expect(downScrape[#"redial_dial_attempts_recent{result="answered"}"#] == 0)
        #expect(try await eventually(timeout: .seconds(30)) { await sample(testCallUp) == 0 })
        #expect(try await eventually(timeout: .seconds(10)) {
            try await jobs.pauseReason(queue: "callbacks")?.hasPrefix("watchdog: carrier down: synthetic_call/telephony (test call") == true
        })
        // A test-call round for a dial claimed just before the pause to finish, then two more
        // while paused: no visitor is rung meanwhile.
        func nextTestCall() async throws {
            let before = await sample(#"redial_probe_duration_seconds{probe="synthetic_call",target="telephony"}"#)
            #expect(try await eventually(timeout: .seconds(20)) {
                await sample(#"redial_probe_duration_seconds{probe="synthetic_call",target="telephony"}"#) != before
            })
        }
        try await nextTestCall()
        let ringsWhilePaused = try await cluster.rings().count
        for _ in 0..<2 { try await nextTestCall() }
        #expect(try await cluster.rings().count == ringsWhilePaused)

        // The carrier connects calls again: the next test call is answered, dialing resumes, and
        // the visitors' answered calls bring the ratio back up.
        let cleared = try await HTTPClient().send(HTTPClientRequest(method: "POST", url: cluster.sandboxURL + "/sandbox/faults",
                                                                    body: Array(#"{"calls_fail": false}"#.utf8)))
        try #require(cleared.status == 200)
        #expect(try await eventually(timeout: .seconds(30)) { await sample(testCallUp) == 1 })
        #expect(try await eventually(timeout: .seconds(10)) { try await jobs.pauseReason(queue: "callbacks") == nil })
        #expect(try await eventually(timeout: .seconds(60)) {
            (await sample(#"redial_dial_attempts_recent{result="answered"}"#) ?? 0) >= 1
        })
        #expect(try await eventually(timeout: .seconds(10)) { await sample(ratioUp) == 1 })
        await pool.close()
    }
}
