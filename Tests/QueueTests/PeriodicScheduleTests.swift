import Foundation
import Jobs
import LocalServices
import Queue
import RedisClient
import Testing
import TestSupport

/// Cron expressions and schedule files, as pure functions.
@Suite struct CronExpressionTests {
    let utc = TimeZone(identifier: "UTC")!

    func date(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    func next(_ cron: String, after text: String, in zone: TimeZone? = nil) throws -> String? {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = zone ?? utc
        return try CronExpression(cron).next(after: date(text), in: zone ?? utc).map { formatter.string(from: $0) }
    }

    @Test func findsTheNextMatchingTime() throws {
        #expect(try next("0 * * * *", after: "2026-11-26T09:15:00Z") == "2026-11-26T10:00:00Z")
        #expect(try next("*/15 9-17 * * MON-FRI", after: "2026-11-27T17:50:00Z") == "2026-11-30T09:00:00Z")  // Fri → Mon
        #expect(try next("30 2 29 2 *", after: "2026-03-01T00:00:00Z") == "2028-02-29T02:30:00Z")
        #expect(try next("*/20 * * * * *", after: "2026-11-26T09:15:41Z") == "2026-11-26T09:16:00Z")
        #expect(try next("*/20 * * * * *", after: "2026-11-26T09:15:39Z") == "2026-11-26T09:15:40Z")
        #expect(try next("0 0 1,15 * *", after: "2026-11-15T00:00:00Z") == "2026-12-01T00:00:00Z")
        // Both day fields restricted: either matches (the 13th, or any Friday).
        #expect(try next("0 0 13 * 5", after: "2026-11-01T00:00:00Z") == "2026-11-06T00:00:00Z")
        #expect(try next("0 0 * * 7", after: "2026-11-26T00:00:00Z") == "2026-11-29T00:00:00Z")  // 7 is Sunday too
    }

    @Test func followsTheScheduleZoneAcrossDaylightSaving() throws {
        let berlin = TimeZone(identifier: "Europe/Berlin")!
        // 07:00 local: 06:00 UTC in winter, 05:00 UTC in summer (clocks went forward on 29 March 2026).
        #expect(try next("0 7 * * *", after: "2026-03-28T12:00:00Z", in: berlin) == "2026-03-29T07:00:00+02:00")
        #expect(try next("0 7 * * *", after: "2026-03-27T12:00:00Z", in: berlin) == "2026-03-28T07:00:00+01:00")
        // 02:30 does not exist on the day clocks go forward: the next day's runs.
        #expect(try next("30 2 * * *", after: "2026-03-28T12:00:00Z", in: berlin) == "2026-03-30T02:30:00+02:00")
    }

    @Test(arguments: [
        ("* * * *", "expected 5 fields"),
        ("60 * * * *", "minute: expected 0-59, got '60'"),
        ("* 24 * * *", "hour: expected 0-23"),
        ("* * 0 * *", "day of month: expected 1-31"),
        ("* * * FOO *", "month: expected 1-12 or a name, got 'FOO'"),
        ("*/0 * * * *", "step '0' must be a positive number"),
        ("5-1 * * * *", "range '5-1' runs backwards"),
    ])
    func refusesMalformedExpressions(text: String, message: String) {
        #expect {
            try CronExpression(text)
        } throws: { error in
            "\(error)".contains(message)
        }
    }

    @Test func theShippedSchedulesLoad() throws {
        let schedules = try Schedules.load(definitions: try Catalog.load())
        #expect(Set(schedules.map(\.name)) == ["recording.retention", "data.retention", "data.reseal", "report.plan"])
        #expect(schedules.first { $0.name == "report.plan" }?.catchUp == .all)
    }

    @Test(arguments: [
        (#"{"x": {"cron": "* * * * *", "type": "nope"}}"#, "x.type", "expected a job type of the catalog, got 'nope'"),
        (#"{"x": {"cron": "61 * * * *", "type": "noop"}}"#, "x.cron", "minute: expected 0-59"),
        (#"{"x": {"cron": "* * * * *", "type": "noop", "catch_up": "some"}}"#, "x.catch_up", "expected one of all, latest, none"),
        (#"{"x": {"cron": "* * * * *", "type": "noop", "timezone": "Mars/Base"}}"#, "x.timezone", "expected an IANA zone"),
        (#"{"x": {"cron": "* * * * *", "type": "noop", "every": 5}}"#, "x.every", "unknown field"),
        (#"{"x": {"cron": "* * * * *", "type": "noop", "payload": {"tick": "1"}}}"#, "x.payload", "\"tick\" is added by the scheduler"),
    ])
    func refusesMalformedScheduleFiles(text: String, field: String, message: String) {
        #expect {
            try Schedules.parse(path: "ops/schedules.json", contents: Array(text.utf8), definitions: try Catalog.load())
        } throws: { error in
            let text = "\(error)"
            return text.contains("ops/schedules.json") && text.contains(field) && text.contains(message)
        }
    }
}

/// Periodic jobs in real `redial work` processes: one run per tick across three workers, and the
/// catch-up policies after all workers were down.
@Suite struct PeriodicJobProcessTests {
    @Test func threeWorkersRunEachTickOnceAndCatchUpAfterDowntime() async throws {
        let redis = try await TestServices.redis()
        let queue = TestServices.uniqueName("cron")
        let (every, skip) = (TestServices.uniqueName("every"), TestServices.uniqueName("skip"))
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("\(queue).json")
        try Data("""
            {"\(every)": {"cron": "* * * * * *", "type": "noop", "queue": "\(queue)", "catch_up": "all"},
             "\(skip)": {"cron": "* * * * * *", "type": "noop", "queue": "\(queue)-skip", "catch_up": "none"}}
            """.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let environment = ["REDIAL_REDIS_URL": TestServices.redisURL.description, "REDIAL_SCHEDULES": file.path]
        func startWorkers(_ count: Int) throws -> [ChildProcess] {
            try (0..<count).map { index in
                try RedialBinary.start(["work", "--queues", "\(queue),\(queue)-skip"], environment: environment, logName: "\(queue)-\(index)")
            }
        }
        /// The ticks that got a job: the per-tick dedup keys, in seconds.
        func ticks(_ name: String, queue: String) async throws -> [Int] {
            let pattern = Keys(queue: queue).dedup("cron:\(name):*")
            var cursor = "0", found: [Int] = []
            repeat {
                let reply = try await redis.send("SCAN", cursor, "MATCH", pattern, "COUNT", 1000)
                cursor = reply.array?[0].string ?? "0"
                found += (reply.array?[1].array ?? []).compactMap { $0.string?.split(separator: ":").last.flatMap { Int($0) }.map { $0 / 1000 } }
            } while cursor != "0"
            return found.sorted()
        }
        func completed(_ queue: String) async throws -> Int { try await JobQueue(redis: redis).stats(queue: queue).completed }
        func stop(_ workers: [ChildProcess]) async {
            for worker in workers { worker.signal(SIGTERM) }
            for worker in workers { _ = await worker.waitForExit(timeout: .seconds(20)) }
        }

        var workers = try startWorkers(3)
        #expect(try await eventually(timeout: .seconds(30), every: .milliseconds(100)) { try await ticks(every, queue: queue).count >= 4 })
        await stop(workers)
        let before = try await ticks(every, queue: queue)
        #expect(before.count >= 3, "a tick a second for ~4 s: \(before)")
        #expect(before == Array((before.first ?? 0)...(before.last ?? -1)), "no tick missed: \(before)")
        let ran = try await eventually(timeout: .seconds(10)) { try await completed(queue) == before.count }
        let runs = try await completed(queue)
        #expect(ran, "one run per tick across three workers: \(runs) runs for \(before.count) ticks")

        // Down for ~4 s, then one worker: `all` runs the missed ticks, `none` skips them. (This
        // sleep is the downtime itself, the fault under test, not a wait for something to happen.)
        try await Task.sleep(for: .seconds(4))
        let skippedBefore = try await ticks(skip, queue: "\(queue)-skip")
        workers = try startWorkers(1)
        #expect(try await eventually(timeout: .seconds(30), every: .milliseconds(100)) {
            let caughtUp = try await ticks(every, queue: queue).count >= before.count + 6
            let resumed = try await ticks(skip, queue: "\(queue)-skip").contains { $0 > (skippedBefore.last ?? 0) }
            return caughtUp && resumed
        })
        await stop(workers)
        let after = try await ticks(every, queue: queue)
        #expect(after.count >= before.count + 6)
        #expect(after == Array((after.first ?? 0)...(after.last ?? -1)), "missed ticks were caught up: \(after)")
        #expect(try await eventually(timeout: .seconds(10)) { try await completed(queue) == after.count })
        let skipped = try await ticks(skip, queue: "\(queue)-skip")
        let resumed = skipped.filter { $0 > (skippedBefore.last ?? 0) }
        #expect(!resumed.isEmpty && resumed.first! - (skippedBefore.last ?? 0) >= 4, "catch_up none skips the downtime: \(skippedBefore) → \(resumed)")
    }
}
