import Foundation
import HTTPClient
import LocalServices
import Queue
import RedisClient
import Testing
import TestSupport

/// Real `redial watchdog` processes against a real SIP trunk (SIPp answering OPTIONS) and a Redis
/// of their own (the watchdog pauses the dial queue, which other suites' workers serve).
/// REDIAL_TIME_SCALE=0.1: probes every 0.5 s, the lease lives 0.6 s.
@Suite struct WatchdogProcessTests {
    static let scenario = LocalHost.repositoryRoot.appendingPathComponent("deploy/sipp/options-trunk.xml").path

    /// A SIP trunk on `port` that answers OPTIONS with 200.
    static func trunk(port: Int) throws -> ChildProcess {
        try ChildProcess("/usr/bin/sipp", ["-sf", scenario, "-i", "127.0.0.1", "-p", String(port), "-nostdin", "-m", "1000000"],
                         logName: "sipp-\(port)")
    }

    /// One Prometheus sample of a watchdog's `/metrics`, or nil when it is not there (yet).
    static func sample(_ port: Int, _ name: String) async -> Double? {
        await scrape(port)[name]
    }

    /// Every sample of one scrape, by series: values read together come from the same moment.
    static func scrape(_ port: Int) async -> [String: Double] {
        guard let response = try? await HTTPClient().send(HTTPClientRequest(url: "http://127.0.0.1:\(port)/metrics", timeout: .seconds(2))),
              response.status == 200 else { return [:] }
        var samples: [String: Double] = [:]
        for line in response.text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            samples[String(line[..<space])] = value
        }
        return samples
    }

    @Test func aTrunkThatStopsAnsweringPausesDialingUntilItIsBackAndAStandbyTakesOver() async throws {
        let redis = try await PrivateRedis()
        let pool = RedisPool(configuration: RedisConfiguration(url: redis.url, poolSize: 2))
        let jobs = JobQueue(redis: pool)
        let sipPort = try LocalHost.freePort()
        var sip = try Self.trunk(port: sipPort)
        // The carrier's API (the other telephony probe) is the sandbox's.
        let sandboxPort = try LocalHost.freePort()
        // At the watchdogs' time scale: the test call rings for 0.3 s, within the probe's timeout.
        let sandbox = try RedialBinary.start(["sandbox"], environment: ["REDIAL_SANDBOX_PORT": String(sandboxPort), "REDIAL_TIME_SCALE": "0.1"],
                                             logName: "watchdog-sandbox-\(sandboxPort)")
        let ports = [try LocalHost.freePort(), try LocalHost.freePort()]
        let watchdogs = try ports.enumerated().map { index, port in
            try RedialBinary.start(["watchdog"], environment: [
                "REDIAL_REDIS_URL": redis.url.description, "REDIAL_TIME_SCALE": "0.1", "REDIAL_WATCHDOG_PORT": String(port),
                "REDIAL_SIP_TRUNKS": "edge=sip:trunk@127.0.0.1:\(sipPort)", "REDIAL_LOG_LEVEL": "debug",
                "REDIAL_TELEPHONY_URL": "http://127.0.0.1:\(sandboxPort)",
            ], logName: "watchdog-\(index)-\(port)")
        }
        defer { watchdogs.forEach { $0.stop() }; sip.stop(); sandbox.stop(); redis.stop() }
        let trunkUp = #"redial_probe_up{probe="sip_trunk",target="edge"}"#

        // One of the two is active and sees the trunk; the other stands by.
        #expect(try await eventually(timeout: .seconds(20)) {
            let active = [await Self.sample(ports[0], "redial_watchdog_active"), await Self.sample(ports[1], "redial_watchdog_active")]
            return active.compactMap { $0 }.sorted() == [0, 1]
        })
        let activeIndex = await Self.sample(ports[0], "redial_watchdog_active") == 1 ? 0 : 1
        // The trunk's answers are read (a probe starts up, so its state alone would prove nothing).
        let answered = #"redial_probe_success{probe="sip_trunk",target="edge"}"#
        #expect(try await eventually(timeout: .seconds(10)) { await Self.sample(ports[activeIndex], answered) == 1 })
        #expect(await Self.sample(ports[activeIndex], trunkUp) == 1)
        // The standby speaks only of itself: a probe figure it served would be frozen at its
        // last active look (one last seen down would page on after the lease moved away).
        #expect(await Self.sample(ports[1 - activeIndex], trunkUp) == nil)
        #expect(await Self.sample(ports[1 - activeIndex], "redial_watchdog_active") == 0)
        let carrier = #"redial_probe_success{probe="provider_api",target="telephony"}"#
        #expect(try await eventually(timeout: .seconds(10)) { await Self.sample(ports[activeIndex], carrier) == 1 })
        #expect(try await jobs.pauseReason(queue: "callbacks") == nil)

        // The trunk stops answering: down after three misses, and dialing pauses.
        sip.stop()
        #expect(try await eventually(timeout: .seconds(15)) { await Self.sample(ports[activeIndex], trunkUp) == 0 })
        #expect(try await eventually(timeout: .seconds(10)) {
            try await jobs.pauseReason(queue: "callbacks") == "watchdog: carrier down: sip_trunk/edge (no answer to OPTIONS within 0.2 seconds)"
        })
        #expect(await Self.sample(ports[activeIndex], "redial_watchdog_dial_paused") == 1)

        // It answers again: up after two answers, and dialing resumes by itself.
        sip = try Self.trunk(port: sipPort)
        #expect(try await eventually(timeout: .seconds(15)) { await Self.sample(ports[activeIndex], trunkUp) == 1 })
        #expect(try await eventually(timeout: .seconds(10)) { try await jobs.pauseReason(queue: "callbacks") == nil })

        // An operator's pause is not the watchdog's to lift.
        #expect(try await jobs.pause(queue: "callbacks", reason: "maintenance"))
        // Two more rounds of the trunk probe: each is followed by the guard's look at the pause.
        let lastSuccess = #"redial_probe_last_success_timestamp_seconds{probe="sip_trunk",target="edge"}"#
        for _ in 0..<2 {
            let before = await Self.sample(ports[activeIndex], lastSuccess) ?? 0
            #expect(try await eventually(timeout: .seconds(5)) { (await Self.sample(ports[activeIndex], lastSuccess) ?? 0) > before })
        }
        #expect(try await jobs.pauseReason(queue: "callbacks") == "maintenance")
        try await jobs.resume(queue: "callbacks")

        // The active watchdog dies: the standby holds the lease within its time to live and probes.
        watchdogs[activeIndex].stop(signal: SIGKILL)
        let standby = 1 - activeIndex
        #expect(try await eventually(timeout: .seconds(5)) { await Self.sample(ports[standby], "redial_watchdog_active") == 1 })
        #expect(try await eventually(timeout: .seconds(10)) { await Self.sample(ports[standby], trunkUp) == 1 })
        await pool.close()
    }
}
