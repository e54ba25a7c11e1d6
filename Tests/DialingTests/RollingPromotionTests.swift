import CryptoPrimitives
import Domain
import Foundation
import HTTPClient
import LocalServices
import PostgresClient
import Queue
import RedisClient
import Testing
import TestSupport

/// A promotion naming a build (`redial release promote --binary`) moves production's workers to
/// it one at a time under `redial up`: never both down at once, each draining, and every callback
/// accepted during the move completes. The API, relay and watchdog stay on their build. On a Redis
/// and a database of its own.
@Suite struct RollingPromotionTests {
    /// The command lines of `up`'s children.
    static func children(of pid: Int32) throws -> [String] {
        let ps = Process()
        ps.executableURL = URL(fileURLWithPath: "/bin/ps")
        ps.arguments = ["-o", "args=", "--ppid", String(pid)]
        let pipe = Pipe()
        ps.standardOutput = pipe
        try ps.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        ps.waitUntilExit()
        return text.split(separator: "\n").map(String.init)
    }

    @Test func aPromotedBuildReplacesProductionsWorkersOneAtATimeWhileCallbacksComplete() async throws {
        let redis = try await PrivateRedis()
        let databaseURL = try await TestServices.database("promotion")
        let migrated = try await RedialBinary.run(["migrate"], environment: ["REDIAL_DATABASE_URL": databaseURL])
        try #require(migrated.status == 0, "\(migrated.output)")
        let (apiPort, sandboxPort, watchdogPort) = (try LocalHost.freePort(), try LocalHost.freePort(), try LocalHost.freePort())
        let api = "http://127.0.0.1:\(apiPort)", sandbox = "http://127.0.0.1:\(sandboxPort)"
        let environment = [
            "REDIAL_REDIS_URL": redis.url.description, "REDIAL_DATABASE_URL": databaseURL, "REDIAL_TIME_SCALE": "0.01",
            "REDIAL_HTTP_PORT": String(apiPort), "REDIAL_SANDBOX_PORT": String(sandboxPort), "REDIAL_WATCHDOG_PORT": String(watchdogPort),
            "REDIAL_TELEPHONY_URL": sandbox, "REDIAL_SMS_URL": sandbox, "REDIAL_PUBLIC_URL": api,
        ]
        let up = try RedialBinary.start(["up", "--workers", "2"], environment: environment, logName: "promotion-up-\(apiPort)")
        let newBuild = FileManager.default.temporaryDirectory.appendingPathComponent("redial-promoted-\(UUID().uuidString.prefix(8))")
        try FileManager.default.copyItem(atPath: RedialBinary.path, toPath: newBuild.path)
        let pool = RedisPool(configuration: RedisConfiguration(url: redis.url, poolSize: 2))
        let database = PostgresPool(configuration: PostgresConfiguration(url: try PostgresURL(parsing: databaseURL), poolSize: 2))
        defer {
            up.stop(signal: SIGTERM)
            redis.stop()
            try? FileManager.default.removeItem(at: newBuild)
        }
        let jobs = JobQueue(redis: pool)
        func live() async throws -> Int { try await jobs.liveWorkers(queues: try await jobs.queues()).count }
        func workers() throws -> [String] { try Self.children(of: up.pid).filter { $0.contains(" work ") } }
        let started = try await eventually(timeout: .seconds(30)) {
            guard (try? await HTTPClient().send(HTTPClientRequest(url: api + "/healthz")))?.status == 200 else { return false }
            return try await live() == 2
        }
        #expect(started)
        let original = URL(fileURLWithPath: RedialBinary.path).resolvingSymlinksInPath().path  // what `up` runs: its own executable
        let before = try workers()
        #expect(before.count == 2 && before.allSatisfy { $0.hasPrefix(original + " ") }, "\(before)")

        var new = SiteStore.NewSite(name: "Promotion", managers: ["+79160000001"])
        new.balanceMinutes = 10_000
        new.limits = ["client_numbers_per_hour": 100_000, "client_numbers_per_day": 100_000, "site_per_minute": 100_000]
        let (_, key) = try await SiteStore(database: database, protection: .development).create(new)

        // Promoted by force (no samples here), naming the new build.
        #expect(try await RedialBinary.run(["release", "start", "v2", "--window", "1m"], environment: environment).status == 0)
        let promoted = try await RedialBinary.run(["release", "promote", "v2", "--force", "--reason", "rolling test", "--binary", newBuild.path],
                                                  environment: environment)
        #expect(promoted.status == 0 && promoted.output.contains("production's workers move to \(newBuild.path) one at a time"), "\(promoted.output)")

        // While the workers move: callbacks keep coming, and a worker process is always there.
        var ids: [String] = []
        var fewest = 2
        let moved = try await eventually(timeout: .seconds(90), every: .milliseconds(100)) {
            fewest = min(fewest, try workers().count)
            if ids.count < 20 {
                let response = try await HTTPClient().send(HTTPClientRequest(method: "POST", url: api + "/v1/callbacks",
                    headers: [("X-Site-Key", key), ("Content-Type", "application/json"), ("X-Forwarded-For", "203.0.113.\(ids.count + 1)")],
                    body: Array(#"{"phone": "+7999\#(String(format: "%06d", Int.random(in: 0..<1_000_000)))0"}"#.utf8)))
                if let id = (try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])?["id"] as? String { ids.append(id) }
            }
            let running = try workers()
            return running.count == 2 && running.allSatisfy { $0.hasPrefix(newBuild.path) } && ids.count == 20
        }
        let now = try workers()
        #expect(moved, "both workers on the new build: \(now)")
        #expect(fewest >= 1, "a worker process throughout")
        // One at a time: each worker is stopped only after the one before serves on the new build
        // (its heartbeat back: as many live workers as before the roll).
        let lines = up.log.split(separator: "\n").map(String.init)
        func line(_ text: String) -> Int? { lines.firstIndex { $0.contains(text) } }
        let order = [line("production-worker-1 drained"), line("production-worker-1 serving on"),
                     line("production-worker-2 drained"), line("production-worker-2 serving on")]
        #expect(order.allSatisfy { $0 != nil } && order == order.sorted { ($0 ?? 0) < ($1 ?? 0) }, "\(lines.suffix(20))")
        #expect(try Self.children(of: up.pid).filter { $0.contains(" serve") || $0.contains(" relay") }.allSatisfy { $0.hasPrefix(original + " ") })
        #expect(up.log.contains("moved to \(newBuild.path), one at a time"))

        let completed = try await eventually(timeout: .seconds(60), every: .milliseconds(500)) {
            try await database.query("""
                SELECT count(*)::int AS n FROM callbacks WHERE id = ANY(ARRAY(SELECT jsonb_array_elements_text($1::jsonb))::uuid[]) AND status = 'completed'
                """, [String(decoding: try JSONSerialization.data(withJSONObject: ids), as: UTF8.self)])[0].decode("n", as: Int.self) == ids.count
        }
        #expect(completed, "every callback accepted during the move completed")
        await pool.close()
        await database.close()
    }
}
