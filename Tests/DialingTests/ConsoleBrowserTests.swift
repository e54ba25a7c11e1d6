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

/// The operations console in a real browser against a running cluster: sign-in, a queue paused
/// and resumed, a dead job retried until it completes, the workers page, a callback's timeline;
/// no request to another origin. CSRF refusals are checked over plain HTTP. Screenshots go to
/// .run/test-artifacts/ (the README's come from there). Part of the serialized dial suite: its
/// cluster dials.
extension DialFlowTests {
    static let adminToken = "console-test-token-0123456789"

    @Test func onCallSignsInPausesAQueueRetriesADeadJobAndReadsACallbacksJourney() async throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium"), FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver") else {
            throw SetupError("Chromium is not installed: run `make deps` (chromium, chromium-driver, python3-selenium)")
        }
        let store = try await ObjectStore()
        let bucket = "console-" + String(UInt32.random(in: 0...UInt32.max))
        try await S3ObjectStorage(baseURL: store.url, bucket: bucket, region: "us-east-1", accessKey: "test-key", secretKey: "test-secret")
            .ensureBucket()
        var settings = store.settings(bucket: bucket)
        settings["REDIAL_ADMIN_TOKEN"] = Self.adminToken
        let cluster = try await Cluster(workers: 1, settings: settings)
        defer { cluster.stop(); store.stop() }
        // A callback that completes: its journey is what the timeline shows.
        let (siteID, key) = try await site()
        let tail = String(format: "%07d", Int.random(in: 0..<10_000_000)) + "0"  // ends in 0: answered
        let accepted = try await client.send(HTTPClientRequest(method: "POST", url: cluster.api + "/v1/callbacks",
            headers: [("X-Site-Key", key), ("Content-Type", "application/json")], body: Array(#"{"phone": "+7916\#(tail)"}"#.utf8)))
        let id = try #require((try JSONSerialization.jsonObject(with: Data(accepted.body)) as? [String: Any])?["id"] as? String, "\(accepted.text)")
        let completed = try await eventually(timeout: .seconds(60), every: .milliseconds(300)) {
            try await database.query("SELECT 1 FROM callbacks WHERE id = $1::uuid AND status = 'completed' AND minutes_debited IS NOT NULL", [id]).count == 1
        }
        try #require(completed, "the callback completed")
        let recorded = try await eventually(timeout: .seconds(30), every: .milliseconds(300)) {
            try await database.query("SELECT 1 FROM recordings WHERE callback_id = $1::uuid", [id]).count == 1
        }
        try #require(recorded, "the call's recording was stored")

        // A dead job on a queue of the test's own: run once by a stand-in worker and buried.
        let redis = try await TestServices.redis()
        let jobs = JobQueue(redis: redis)
        let queue = TestServices.uniqueName("console")
        let keys = Keys(queue: queue)
        let job = try await jobs.enqueue(.init(type: "noop", policy: JobPolicy(queue: queue, maxAttempts: 1))).id
        let claimed = WorkerCommands.claimed(in: try await redis.pipeline([WorkerCommands.claim(keys, worker: "stand-in", count: 1)])[0].get(), queue: queue)
        let fence = try #require(claimed.first?.fence)
        _ = try await redis.pipeline([WorkerCommands.fail(keys, worker: "stand-in", job: job, fence: fence, mode: "dead", delay: .zero,
                                                          reason: "buried by the console test")])
        #expect(try await jobs.stats(queue: queue).dead == 1)
        // Its worker, whose metrics say when it has seen the queue paused.
        let metricsPort = try LocalHost.freePort()
        let worker = try RedialBinary.start(["work", "--queues", queue, "--metrics-port", String(metricsPort)], environment: cluster.environment,
                                            logName: "console-worker-\(metricsPort)")
        defer { worker.stop(signal: SIGTERM) }

        let artifacts = LocalHost.repositoryRoot.appendingPathComponent(".run/test-artifacts")
        let signals = artifacts.appendingPathComponent("console-signals-\(metricsPort)")
        try FileManager.default.createDirectory(at: signals, withIntermediateDirectories: true)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/drive_console.py").path
        let browser = try ChildProcess("/usr/bin/python3", [script, cluster.api, Self.adminToken, queue, job, tail, siteID, signals.path,
                                                                   artifacts.path],
                                       logName: "console-browser-\(metricsPort)")
        // Paused from the browser, the retried job waits: its worker has seen the pause and runs nothing.
        let retried = try await eventually(timeout: .seconds(60), every: .milliseconds(200)) {
            FileManager.default.fileExists(atPath: signals.appendingPathComponent("retried").path)
        }
        #expect(retried, "\(browser.log)")
        #expect(try await jobs.pauseReason(queue: queue)?.hasPrefix("paused from the console by admin") == true)
        let seenPaused = try await eventually(timeout: .seconds(20), every: .milliseconds(200)) {
            let metrics = (try? await HTTPClient().send(HTTPClientRequest(url: "http://127.0.0.1:\(metricsPort)/metrics")))?.text ?? ""
            return metrics.contains("redial_queue_paused{queue=\"\(queue)\"} 1")
        }
        #expect(seenPaused)
        #expect(try await jobs.record(queue: queue, id: job)?.state == .ready, "a paused queue's job waits")
        _ = FileManager.default.createFile(atPath: signals.appendingPathComponent("go").path, contents: nil)
        // Resumed from the browser, it runs and completes.
        let done = try await eventually(timeout: .seconds(30), every: .milliseconds(200)) {
            try await jobs.record(queue: queue, id: job)?.state == .completed
        }
        #expect(done, "the retried job completed once the queue was resumed")
        guard await browser.waitForExit(timeout: .seconds(120)) == 0 else { throw SetupError("the browser driver failed: \(browser.log)") }
        let line = browser.log.split(separator: "\n").last { $0.hasPrefix("{") } ?? ""
        let seen = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(browser.log)")
        #expect(seen["sign_in_required"] as? Bool == true)
        #expect(seen["wrong_token_refused"] as? Bool == true)
        #expect(seen["paused_shown"] as? Bool == true)
        #expect((seen["retried_notice"] as? String)?.contains("sent back to ready") == true, "\(seen)")
        #expect(seen["resumed_shown"] as? Bool == true)
        #expect((seen["workers"] as? Int ?? 0) >= 2, "the cluster's worker and the queue's")
        // The journey in time order, as the database has it.
        let timeline = seen["timeline"] as? [String] ?? []
        #expect(timeline.first == "accepted" && timeline.contains("attempt") && timeline.contains("outcome")
                && timeline.contains("recording") && timeline.contains("debit"), "\(seen["timeline_text"] ?? "")")
        #expect(timeline.firstIndex(of: "attempt") ?? 99 < timeline.firstIndex(of: "outcome") ?? 0)
        #expect((seen["timeline_text"] as? [String])?.contains { $0.contains("attempt 1: answered (SIP 200)") } == true, "\(seen["timeline_text"] ?? "")")
        // Its jobs, found by its id in their payloads; the retried job by its type.
        let types = Set(seen["callback_job_types"] as? [String] ?? [])
        #expect(types.isSuperset(of: ["callback.dial", "recording.upload"]), "\(types)")
        #expect((seen["noop_jobs"] as? [String])?.contains(job) == true, "\(seen["noop_jobs"] ?? "")")
        // The rotated key works at once, the old one through its hour of grace.
        let newKey = try #require(seen["new_key"] as? String)
        #expect(newKey.hasPrefix("sk_") && newKey != key)
        #expect((seen["old_key_note"] as? String)?.contains("old key works until") == true, "\(seen["old_key_note"] ?? "")")
        for (index, usable) in [newKey, key].enumerated() {
            let response = try await client.send(HTTPClientRequest(method: "POST", url: cluster.api + "/v1/callbacks",
                headers: [("X-Site-Key", usable), ("Content-Type", "application/json"), ("X-Forwarded-For", "198.51.100.\(index + 40)")],
                body: Array(#"{"phone": "+7916\#(String(format: "%07d", Int.random(in: 0..<10_000_000)))1"}"#.utf8)))
            #expect(response.status == 202, "\(response.text)")
        }
        #expect((seen["foreign"] as? [String])?.isEmpty == true, "requests to another origin: \(seen["foreign"] ?? "")")
        #expect((seen["sites"] as? Int ?? 0) >= 1, "the sites page lists the test's site")
        #expect((seen["phone_overflow"] as? Int ?? 99) <= 0, "the overview fits a phone's width")
        for page in ["overview", "dead", "workers", "callback", "jobs"] {
            #expect(FileManager.default.fileExists(atPath: artifacts.appendingPathComponent("console-\(page).png").path))
        }
    }

    /// An action needs the session's CSRF token and the console's own origin; sign-in needs the token.
    @Test func theConsoleRefusesActionsWithoutItsTokenOrFromAnotherOrigin() async throws {
        let cluster = try await Cluster(workers: 0, settings: ["REDIAL_ADMIN_TOKEN": Self.adminToken])
        defer { cluster.stop() }
        func post(_ path: String, _ form: String, cookie: String? = nil, origin: String? = nil) async throws -> HTTPClientResponse {
            var headers = [("Content-Type", "application/x-www-form-urlencoded")]
            if let cookie { headers.append(("Cookie", cookie)) }
            if let origin { headers.append(("Origin", origin)) }
            return try await client.send(HTTPClientRequest(method: "POST", url: cluster.api + path, headers: headers, body: Array(form.utf8)))
        }
        #expect(try await client.send(HTTPClientRequest(url: cluster.api + "/admin")).status == 303, "signed out: to the sign-in page")
        #expect(try await post("/admin/sign-in", "token=wrong-token-wrong-token").status == 401)
        let signedIn = try await post("/admin/sign-in", "token=\(Self.adminToken)")
        #expect(signedIn.status == 303)
        let cookieHeader = try #require(signedIn.header("Set-Cookie"))
        #expect(cookieHeader.contains("HttpOnly") && cookieHeader.contains("SameSite=Strict"))
        let cookie = String(cookieHeader.split(separator: ";")[0])
        let overview = try await client.send(HTTPClientRequest(url: cluster.api + "/admin", headers: [("Cookie", cookie)]))
        #expect(overview.status == 200 && overview.header("Content-Security-Policy")?.contains("default-src 'self'") == true)
        let csrf = try #require(overview.text.firstMatch(of: /name="csrf" value="([^"]+)"/).map { String($0.1) })

        let redis = try await TestServices.redis()
        let queue = TestServices.uniqueName("csrf")
        _ = try await JobQueue(redis: redis).enqueue(.init(type: "noop", policy: JobPolicy(queue: queue, maxAttempts: 1)))
        let withoutToken = try await post("/admin/queues/pause", "queue=\(queue)", cookie: cookie)
        #expect(withoutToken.status == 403)
        let crossOrigin = try await post("/admin/queues/pause", "queue=\(queue)&csrf=\(csrf)", cookie: cookie, origin: "http://evil.example")
        #expect(crossOrigin.status == 403)
        #expect(try await JobQueue(redis: redis).pauseReason(queue: queue) == nil, "nothing was paused")
        let sameOrigin = try await post("/admin/queues/pause", "queue=\(queue)&csrf=\(csrf)", cookie: cookie, origin: cluster.api)
        #expect(sameOrigin.status == 303)
        #expect(try await JobQueue(redis: redis).pauseReason(queue: queue) != nil)
        let unknown = try await post("/admin/queues/pause", "queue=no-such-queue-here&csrf=\(csrf)", cookie: cookie)
        #expect(unknown.status == 400 && unknown.text.contains("no queue named"))

        // A client that keeps guessing is refused for a while, even with the right token; another is not.
        let guesser = "203.0.113.\(Int.random(in: 1...254))"
        func signIn(_ token: String, from client: String) async throws -> Int {
            try await self.client.send(HTTPClientRequest(method: "POST", url: cluster.api + "/admin/sign-in",
                headers: [("Content-Type", "application/x-www-form-urlencoded"), ("X-Forwarded-For", client)], body: Array("token=\(token)".utf8))).status
        }
        for _ in 0..<10 { #expect(try await signIn("wrong-token-wrong-token", from: guesser) == 401) }
        #expect(try await signIn(Self.adminToken, from: guesser) == 429)
        #expect(try await signIn(Self.adminToken, from: "198.51.100.\(Int.random(in: 1...254))") == 303)
    }

    /// The releases page: the gate's comparison, a promotion the gate refuses with its reasons, a
    /// rollback from the console, recorded with who did it. On a database of its own (one release
    /// soaks at a time).
    @Test func theReleasesPageShowsTheGateRefusesAnEarlyPromotionAndRollsBack() async throws {
        let databaseURL = try await TestServices.database("console_releases")
        let migrated = try await RedialBinary.run(["migrate"], environment: ["REDIAL_DATABASE_URL": databaseURL])
        try #require(migrated.status == 0, "\(migrated.output)")
        let cluster = try await Cluster(workers: 0, settings: ["REDIAL_ADMIN_TOKEN": Self.adminToken, "REDIAL_DATABASE_URL": databaseURL])
        defer { cluster.stop() }
        let version = "console-\(UInt32.random(in: 0...UInt32.max))"
        #expect(try await RedialBinary.run(["release", "start", version, "--window", "10m"], environment: cluster.environment).status == 0)
        let signedIn = try await client.send(HTTPClientRequest(method: "POST", url: cluster.api + "/admin/sign-in",
            headers: [("Content-Type", "application/x-www-form-urlencoded")], body: Array("token=\(Self.adminToken)".utf8)))
        let cookie = String(try #require(signedIn.header("Set-Cookie")).split(separator: ";")[0])
        func get(_ path: String) async throws -> HTTPClientResponse {
            try await client.send(HTTPClientRequest(url: cluster.api + path, headers: [("Cookie", cookie)]))
        }
        let page = try await get("/admin/releases")
        #expect(page.status == 200 && page.text.contains("Release <strong>\(version)</strong>: soaking"), "\(page.text.prefix(400))")
        #expect(page.text.components(separatedBy: "<tr data-verdict=").count - 1 == 7, "every metric of the gate")
        #expect(page.text.contains("the soak is incomplete"))
        let csrf = try #require(page.text.firstMatch(of: /name="csrf" value="([^"]+)"/).map { String($0.1) })
        func post(_ path: String) async throws -> HTTPClientResponse {
            try await client.send(HTTPClientRequest(method: "POST", url: cluster.api + path,
                headers: [("Content-Type", "application/x-www-form-urlencoded"), ("Cookie", cookie)], body: Array("version=\(version)&csrf=\(csrf)".utf8)))
        }
        let refused = try await post("/admin/releases/promote")
        #expect(refused.status == 400 && refused.text.contains("the soak is incomplete"), "\(refused.text.prefix(600))")
        #expect(try await post("/admin/releases/rollback").status == 303)
        let after = try await get("/admin/releases?version=\(version)")
        #expect(after.text.contains("rolled back") && !after.text.contains("id=\"promote\""))
        let history = after.text.components(separatedBy: "<table id=\"history\">").last ?? ""
        #expect(history.contains("rollback") && history.contains("refused") && history.contains("admin from"), "\(history.prefix(800))")

        // The sites page: a site with its masked managers, moved to beta from the console.
        let added = try await RedialBinary.run(["sites", "add", "--name", "Console Site", "--manager", "+79161112233"], environment: cluster.environment)
        #expect(added.status == 0, "\(added.output)")
        let sites = try await get("/admin/sites")
        #expect(sites.text.contains("Console Site") && sites.text.contains("+7916•••••33") && !sites.text.contains("+79161112233"))
        let site = try #require(sites.text.firstMatch(of: /data-site="([0-9a-f-]{36})"/).map { String($0.1) })
        let moved = try await client.send(HTTPClientRequest(method: "POST", url: cluster.api + "/admin/sites/channel",
            headers: [("Content-Type", "application/x-www-form-urlencoded"), ("Cookie", cookie)], body: Array("id=\(site)&channel=beta&csrf=\(csrf)".utf8)))
        #expect(moved.status == 303)
        let pool = PostgresPool(configuration: PostgresConfiguration(url: try PostgresURL(parsing: databaseURL), poolSize: 1))
        #expect(try await pool.query("SELECT channel FROM sites WHERE id = $1::uuid", [site]).first?.decode("channel", as: String.self) == "beta")
        await pool.close()
    }
}
