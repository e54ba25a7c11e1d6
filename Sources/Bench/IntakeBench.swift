import Foundation
import HTTPClient
import LocalServices
import PostgresClient
import Queue
import RedisClient
import Relay

/// The callback path's speed (`redial-bench --intake`, part of `make bench`): how many callback
/// requests the API accepts per second against PostgreSQL's own rate for the same transaction
/// (pgbench, same server, as many clients as the API's pool), the HTTP layer's own limit (wrk on
/// `/healthz`), and the time from a 202 to the carrier's ring at half the accepted rate (from the
/// sandbox's ring log). On the PostgreSQL and Redis the Makefile starts for it; the cluster's
/// processes are the release build's.
struct IntakeBench {
    let redial: String
    let redisPort: Int
    let postgresPort: Int
    let seconds: Int
    let quick: Bool
    /// The memory run's length (0: none).
    let soakSeconds: Int

    struct Results: Encodable {
        /// pgbench's transactions per second for intake's statements.
        let pgbenchPerSecond: Double
        let healthzPerSecond: Double
        let acceptedPerSecond: Double
        /// Requests of the load that were not answered 202 (each one a finding).
        let notAccepted: Int
        /// wrk's latency percentiles of `POST /v1/callbacks`, ms.
        let intakeLatency: [String: Double]
        let ratioToPgbench: Double
        let clickToRing: ClickToRing
        /// How fast two workers dial a backlog here (rings per second).
        let dialsPerSecond: Double
        /// Click to ring at half `dialsPerSecond`, when half the intake is more than the workers carry.
        let clickToRingWithinDialing: ClickToRing?
        /// Resident memory after the load and the click-to-ring run, MB.
        let residentMB: [String: Double]
        let growth: Growth
        let memory: Memory?

        enum CodingKeys: String, CodingKey {
            case pgbenchPerSecond = "pgbench_tps", healthzPerSecond = "healthz_rps", acceptedPerSecond = "accepted_per_s"
            case notAccepted = "not_accepted", intakeLatency = "intake_latency_ms", ratioToPgbench = "ratio_to_pgbench"
            case clickToRing = "click_to_ring", dialsPerSecond = "dials_per_s", clickToRingWithinDialing = "click_to_ring_within_dialing"
            case residentMB = "resident_mb", growth, memory
        }
    }

    /// The API's and a worker's resident memory through a steady load the workers carry (every
    /// callback dialed, answered, recorded): sampled every `every` seconds; growth is the last
    /// sample over the one a minute in (the first one in a short run), once warm.
    struct Memory: Encodable {
        let rate: Double
        let seconds: Int
        let accepted: Int
        let apiMB: [Double]
        let workerMB: [Double]
        let every: Int
        /// The sample growth is measured from.
        let warm: Int
        let apiGrowth: Double
        let workerGrowth: Double

        enum CodingKeys: String, CodingKey {
            case rate = "requests_per_s", seconds, accepted, apiMB = "api_mb", workerMB = "worker_mb", every = "sample_every_s", warm = "warm_sample"
            case apiGrowth = "api_growth", workerGrowth = "worker_growth"
        }
    }

    /// The same intake with `history` old callbacks (and their attempts) in PostgreSQL, and the
    /// reconciler's scan (median of 20) before and after.
    struct Growth: Encodable {
        let history: Int
        let acceptedPerSecond: Double
        let acceptedRatioToEmpty: Double
        let reconcilerMsEmpty: Double
        let reconcilerMsHistory: Double

        enum CodingKeys: String, CodingKey {
            case history, acceptedPerSecond = "accepted_per_s", acceptedRatioToEmpty = "accepted_ratio_to_empty"
            case reconcilerMsEmpty = "reconciler_scan_ms_empty", reconcilerMsHistory = "reconciler_scan_ms_history"
        }
    }

    struct ClickToRing: Encodable {
        let rate: Double
        let callbacks: Int
        let rung: Int
        let p50: Double
        let p99: Double
        let max: Double

        enum CodingKeys: String, CodingKey {
            case rate = "requests_per_s", callbacks, rung, p50 = "p50_ms", p99 = "p99_ms", max = "max_ms"
        }
    }

    /// The API's PostgreSQL pool (`redial serve`): pgbench gets as many clients.
    static let apiPoolSize = 8

    func run() async throws -> Results {
        let store = try await ObjectStore()
        defer { store.stop() }
        _ = try await HTTPClient().send(HTTPClientRequest(method: "PUT", url: store.url + "/bench"))
        let sandboxPort = try LocalHost.freePort(), apiPort = try LocalHost.freePort()
        let api = "http://127.0.0.1:\(apiPort)", sandbox = "http://127.0.0.1:\(sandboxPort)"
        let database = "postgres://redial@127.0.0.1:\(postgresPort)/redial"
        var environment = [
            "REDIAL_REDIS_URL": "redis://127.0.0.1:\(redisPort)/0", "REDIAL_DATABASE_URL": database,
            "REDIAL_HTTP_PORT": String(apiPort), "REDIAL_SANDBOX_PORT": String(sandboxPort), "REDIAL_TELEPHONY_URL": sandbox,
            "REDIAL_SMS_URL": sandbox, "REDIAL_PUBLIC_URL": api,
            "REDIAL_TELEPHONY_SECRET": "bench-webhook-secret-0123456789",
        ]
        environment.merge(store.settings(bucket: "bench")) { _, new in new }
        let merged = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        func redial(_ arguments: [String]) async throws -> String {
            let result = try await ChildProcess.run(self.redial, arguments, environment: merged)
            guard result.status == 0 else { throw BenchError("redial \(arguments.joined(separator: " ")): \(result.output)") }
            return result.output
        }
        _ = try await redial(["migrate"])
        let created = try await redial(["sites", "add", "--name", "bench", "--manager", "+79990000001", "--balance-minutes", "10000000",
                                        "--low-balance", "", "--limit", "site_per_minute=1000000", "--limit", "site_per_day=1000000", "--json"])
        guard let site = try JSONSerialization.jsonObject(with: Data(created.utf8)) as? [String: String], let siteID = site["id"],
              let key = site["site_key"] else { throw BenchError("sites add printed \(created)") }

        print("intake: pgbench, intake's statements, \(Self.apiPoolSize) clients, \(seconds) s")
        let limit = try await pgbench(database: database, siteID: siteID)
        var processes: [ChildProcess] = []
        defer { for process in processes.reversed() { process.stop(signal: SIGTERM) } }
        func start(_ name: String, _ arguments: [String]) throws {
            // The sandbox's calls ring and talk a tenth of real time (3 s, not 30): their ends
            // (webhooks, outcomes, recordings) are over before the next measurement starts.
            let environment = name == "sandbox" ? merged.merging(["REDIAL_TIME_SCALE": "0.1"]) { _, new in new } : merged
            processes.append(try ChildProcess(self.redial, arguments, environment: environment, logName: "bench-intake-\(name)"))
        }
        // Intake is the API with its relay; the workers, which dial, come after the load (on two
        // cores they would take the API's CPU, which another machine gives them in production).
        for (name, arguments) in [("sandbox", ["sandbox"]), ("api", ["serve"]), ("relay", ["relay"])] { try start(name, arguments) }
        for url in [api + "/healthz", sandbox + "/healthz"] {
            let deadline = ContinuousClock.now + .seconds(30)
            while (try? await HTTPClient().send(HTTPClientRequest(url: url)))?.status != 200 {
                guard ContinuousClock.now < deadline else { throw BenchError("\(url) did not answer within 30 s") }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        print("intake: wrk on /healthz")
        let healthz = try await wrk(url: api + "/healthz", script: nil)
        print("intake: wrk posting distinct numbers from distinct clients")
        let intake = try await wrk(url: api + "/v1/callbacks", script: Self.postScript, arguments: [key, "7990"])
        let accepted = Double(intake.requests - intake.notOK) / intake.seconds
        let pool = PostgresPool(configuration: PostgresConfiguration(url: try PostgresURL(parsing: database), poolSize: 1))
        defer { Task { await pool.close() } }
        let scanEmpty = try await reconcilerScan(pool)
        let history = quick ? 100_000 : 1_000_000
        print("intake: \(history) historical callbacks with their attempts")
        try await makeHistory(database: database, siteID: siteID, count: history)
        print("intake: wrk again, beside them")
        let grown = try await wrk(url: api + "/v1/callbacks", script: Self.postScript, arguments: [key, "7993"])
        let acceptedGrown = Double(grown.requests - grown.notOK) / grown.seconds
        let growth = Growth(history: history, acceptedPerSecond: acceptedGrown, acceptedRatioToEmpty: accepted > 0 ? acceptedGrown / accepted : 0,
                            reconcilerMsEmpty: scanEmpty, reconcilerMsHistory: try await reconcilerScan(pool))
        // The loads' callbacks are canceled before the workers start (two workers here dial them
        // in minutes): their jobs then end at once, and the measurements meet no backlog.
        try await cancelActive(pool)
        // The dial pipeline's own rate: callbacks waiting when the workers start, rung how fast.
        let waiting = quick ? 1000 : 3000
        print("intake: \(waiting) callbacks waiting, then the workers start")
        let drainIDs = await send(api: api, key: key, rate: 400, count: waiting) { index in
            (phone: "+79930\(String(format: "%05d", index % 100_000))0", address: "10.202.\(index / 256 % 256).\(index % 256)")
        }
        for index in 1...2 { try start("worker-\(index)", ["work", "--queues", "callbacks,notifications,recordings,reports", "--concurrency", "32"]) }
        let drained = try await rings(sandbox: sandbox, of: Set(drainIDs.keys), within: .seconds(180)).values.sorted()
        let dialRate = drained.count > 1 ? Double(drained.count - 1) / drained.last!.timeIntervalSince(drained.first!) : 0
        // Each click-to-ring run starts on a quiet cluster: the calls before it ended, their
        // outcomes, messages and recordings done (not competing for the two cores).
        let rate = min(max(accepted / 2, 1), 500)
        var withinDialing: ClickToRing?
        if rate > dialRate * 0.8 {
            try await quiet(redisPort: redisPort, pool: pool)
            let carried = max(dialRate / 2, 1)
            print(String(format: "intake: click to ring at %.0f requests/s (half the dial pipeline's rate)", carried))
            withinDialing = try await clickToRing(api: api, sandbox: sandbox, key: key, rate: carried, first: 50_000)
        }
        try await quiet(redisPort: redisPort, pool: pool)
        print(String(format: "intake: click to ring at %.0f requests/s (half the intake)", rate))
        let click = try await clickToRing(api: api, sandbox: sandbox, key: key, rate: rate, first: 0)
        try await quiet(redisPort: redisPort, pool: pool)
        let resident = ["api": Self.residentMB(processes[1].pid), "worker": Self.residentMB(processes[3].pid)]
        var memory: Memory?
        if soakSeconds > 0 {
            print("intake: memory through \(soakSeconds) s at \(Int(Self.soakRate)) requests/s, the workers dialing")
            memory = await soak(api: api, key: key, api: processes[1].pid, worker: processes[3].pid)
        }
        return Results(pgbenchPerSecond: limit, healthzPerSecond: healthz.perSecond, acceptedPerSecond: accepted, notAccepted: intake.notOK,
                       intakeLatency: intake.percentiles, ratioToPgbench: limit > 0 ? accepted / limit : 0, clickToRing: click,
                       dialsPerSecond: (dialRate * 10).rounded() / 10, clickToRingWithinDialing: withinDialing,
                       residentMB: resident, growth: growth, memory: memory)
    }

    /// pgbench running what the API does in PostgreSQL for one accepted callback
    /// (`CallbackStore.existingSQL`, then `createSQL`): the number's active callback, then the
    /// callback with its job key and its outbox row (the relay's notification included) in one
    /// statement. The site by its key is not read: the API keeps it (`SiteKeyCache`). The rows it
    /// made are removed after.
    func pgbench(database: String, siteID: String) async throws -> Double {
        let script = FileManager.default.temporaryDirectory.appendingPathComponent("redial-intake-\(UInt32.random(in: 0...UInt32.max)).sql")
        defer { try? FileManager.default.removeItem(at: script) }
        try Self.pgbenchScript.write(to: script, atomically: true, encoding: .utf8)
        // A child of this process inherits its blocked signals (Foundation's Process keeps the
        // mask), and pgbench's -T is a SIGALRM: it would never stop. Unblocked before the exec.
        let result = try await ChildProcess.run("/usr/bin/python3", [
            "-c", "import os, signal, sys; signal.pthread_sigmask(signal.SIG_SETMASK, []); os.execv(sys.argv[1], sys.argv[1:])",
            "/usr/bin/pgbench", "-n", "-c", String(Self.apiPoolSize), "-j", "2", "-T", String(seconds), "-f", script.path,
            "-D", "site=\(siteID)", database,
        ], timeout: .seconds(seconds + 60))
        guard result.status == 0, let tps = result.output.firstMatch(of: /tps = ([0-9.]+) \(without initial connection time\)/)
            .flatMap({ Double($0.1) }) else { throw BenchError("pgbench: \(result.output.suffix(800))") }
        let cleanup = try await ChildProcess.run("/usr/bin/psql", [database, "-c", """
            DELETE FROM outbox WHERE callback_id IN (SELECT id FROM callbacks WHERE page_url = 'https://bench.example/pgbench');
            DELETE FROM callbacks WHERE page_url = 'https://bench.example/pgbench';
            """])
        guard cleanup.status == 0 else { throw BenchError("removing pgbench's rows: \(cleanup.output)") }
        return tps
    }

    static let pgbenchScript = """
        \\set n random(1, 9000000000000000000)
        SELECT id::text AS id, status FROM callbacks WHERE site_id = ':site' AND ((idempotency_key IS NOT NULL AND idempotency_key = NULL) OR (phone_lookup = md5(:n::text) AND status IN ('queued', 'scheduled', 'dialing', 'retry_wait'))) ORDER BY (idempotency_key IS NOT DISTINCT FROM NULL) DESC LIMIT 1;
        WITH new AS (SELECT gen_random_uuid() AS id), callback AS (INSERT INTO callbacks (id, site_id, phone, name, page_url, call_at, status, idempotency_key, client_address, channel, phone_lookup, phone_tail, job_key) SELECT new.id, ':site', 'v1.dev.' || md5(:n::text) || md5((:n + 1)::text), NULL, 'https://bench.example/pgbench', NULL, 'queued', NULL, '10.0.0.1', CASE WHEN (SELECT channel FROM sites WHERE id = ':site') = 'beta' OR (random() < 0 AND EXISTS (SELECT 1 FROM releases WHERE state = 'soaking')) THEN 'beta' ELSE 'production' END, md5(:n::text), right(:n::text, 4), 'callback.dial:' || new.id FROM new RETURNING id) INSERT INTO outbox (callback_id, job_type, payload, run_at, dedup_key) SELECT id, 'callback.dial', ('{"attempt":1,"callback_id":"' || id || '"}')::jsonb, NULL, 'callback.dial:' || id FROM callback;

        """

    /// wrk's request script: each request a new number (answered by the sandbox: it ends in 0)
    /// from a new client address, so no limit but the machine's is met.
    static let postScript = """
        local counter = 0
        local threads = 0
        setup = function(thread) thread:set("id", threads); threads = threads + 1 end
        init = function(args) key = args[1]; prefix = args[2] end
        request = function()
          counter = counter + 1
          local phone = string.format("+%s%d%05d0", prefix, id, counter % 100000)
          local address = string.format("10.%d.%d.%d", id, math.floor(counter / 256) % 256, counter % 256)
          return wrk.format("POST", nil, {["Content-Type"] = "application/json", ["X-Site-Key"] = key, ["X-Forwarded-For"] = address},
                            '{"phone": "' .. phone .. '"}')
        end

        """

    struct WrkRun {
        let requests: Int
        let notOK: Int
        let seconds: Double
        let perSecond: Double
        let percentiles: [String: Double]
    }

    func wrk(url: String, script: String?, arguments: [String] = []) async throws -> WrkRun {
        var options = ["-t", "2", "-c", "16", "-d", "\(seconds)s", "--latency"]
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("redial-wrk-\(UInt32.random(in: 0...UInt32.max)).lua")
        defer { try? FileManager.default.removeItem(at: file) }
        if let script {
            try script.write(to: file, atomically: true, encoding: .utf8)
            options += ["-s", file.path]
        }
        let result = try await ChildProcess.run("/usr/bin/wrk", options + [url] + (arguments.isEmpty ? [] : ["--"] + arguments),
                                                timeout: .seconds(seconds + 60))
        let output = result.output
        guard result.status == 0, let total = output.firstMatch(of: /([0-9]+) requests in ([0-9.]+)(ms|s|m)/),
              let requests = Int(total.1), let duration = Double(total.2),
              let rate = output.firstMatch(of: /Requests\/sec:\s+([0-9.]+)/).flatMap({ Double($0.1) }) else {
            throw BenchError("wrk \(url): \(output.suffix(800))")
        }
        let seconds = total.3 == "ms" ? duration / 1000 : total.3 == "m" ? duration * 60 : duration
        let notOK = output.firstMatch(of: /Non-2xx or 3xx responses: ([0-9]+)/).flatMap { Int($0.1) } ?? 0
        var percentiles: [String: Double] = [:]
        for match in output.matches(of: /\s(50|75|90|99)%\s+([0-9.]+)(us|ms|s)/) {
            guard let value = Double(match.2) else { continue }
            percentiles["p\(match.1)"] = match.3 == "us" ? value / 1000 : match.3 == "s" ? value * 1000 : value
        }
        return WrkRun(requests: requests, notOK: notOK, seconds: seconds, perSecond: rate, percentiles: percentiles)
    }

    /// Requests at `rate` (open loop: each sent at its time, whatever the others do) for the run's
    /// seconds; for each accepted one, the time from its 202 to the ring the sandbox logged.
    func clickToRing(api: String, sandbox: String, key: String, rate: Double, first: Int) async throws -> ClickToRing {
        let accepted = await send(api: api, key: key, rate: rate, count: Int(rate * Double(min(seconds, 10)))) { index in
            (phone: "+79910\(String(format: "%05d", (first + index) % 100_000))0", address: "10.200.\((first + index) / 256 % 256).\(index % 256)")
        }
        let rings = try await rings(sandbox: sandbox, of: Set(accepted.keys), within: .seconds(30))
        let delays = accepted.compactMap { id, at in rings[id].map { max(0, $0.timeIntervalSince(at) * 1000) } }.sorted()
        func percentile(_ p: Double) -> Double {
            delays.isEmpty ? 0 : (delays[min(delays.count - 1, Int((Double(delays.count) * p).rounded(.up)) - 1)] * 10).rounded() / 10
        }
        return ClickToRing(rate: rate, callbacks: accepted.count, rung: delays.count, p50: percentile(0.5), p99: percentile(0.99),
                           max: delays.last.map { ($0 * 10).rounded() / 10 } ?? 0)
    }

    /// When the sandbox's carrier was asked to ring each of `callbacks` (first attempts), once
    /// all were or `within` has passed.
    func rings(sandbox: String, of callbacks: Set<String>, within: Duration) async throws -> [String: Date] {
        var rings: [String: Date] = [:]
        let formatter = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        let deadline = ContinuousClock.now + within
        repeat {
            let response = try await HTTPClient().send(HTTPClientRequest(url: sandbox + "/sandbox/calls"))
            for call in (try JSONSerialization.jsonObject(with: Data(response.body)) as? [[String: Any]]) ?? [] {
                guard let key = call["idempotency_key"] as? String, key.hasSuffix(":attempt:1"),
                      let text = call["created_at"] as? String, let at = try? formatter.parse(text) else { continue }
                let id = String(key.dropFirst("callback:".count).dropLast(":attempt:1".count))
                if callbacks.contains(id) { rings[id] = at }
            }
            if rings.count == callbacks.count { break }
            try await Task.sleep(for: .milliseconds(500))
        } while ContinuousClock.now < deadline
        return rings
    }

    /// `count` requests at `rate` (open loop: each sent at its time, whatever the others do),
    /// request n from `caller(n)`; when each accepted one was answered, by callback id.
    func send(api: String, key: String, rate: Double, count: Int,
              caller: @escaping @Sendable (Int) -> (phone: String, address: String)) async -> [String: Date] {
        let start = ContinuousClock.now
        return await withTaskGroup(of: (String, Date)?.self) { group in
            for index in 0..<count {
                try? await Task.sleep(until: start + .seconds(Double(index) / rate))
                group.addTask {
                    let (phone, address) = caller(index)
                    let request = HTTPClientRequest(method: "POST", url: api + "/v1/callbacks",
                                                    headers: [("Content-Type", "application/json"), ("X-Site-Key", key),
                                                              ("X-Forwarded-For", address)],
                                                    body: Array(#"{"phone": "\#(phone)"}"#.utf8))
                    guard let response = try? await HTTPClient().send(request), response.status == 202,
                          let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
                          let id = object["id"] as? String else { return nil }
                    return (id, Date())
                }
            }
            var accepted: [String: Date] = [:]
            for await case let (id, at)? in group { accepted[id] = at }
            return accepted
        }
    }

    /// The memory run's rate: well within what two workers here dial.
    static let soakRate = 40.0

    func soak(api: String, key: String, api apiPID: Int32, worker workerPID: Int32) async -> Memory {
        let every = quick ? 10 : 30
        var apiMB: [Double] = [], workerMB: [Double] = [], accepted = 0
        for round in 0..<max(1, soakSeconds / every) {
            let offset = round * Int(Self.soakRate) * every
            accepted += await send(api: api, key: key, rate: Self.soakRate, count: Int(Self.soakRate) * every) { index in
                let n = offset + index
                return (phone: "+7992\(String(format: "%06d", n % 1_000_000))0", address: "10.201.\(n / 256 % 256).\(n % 256)")
            }.count
            apiMB.append(Self.residentMB(apiPID))
            workerMB.append(Self.residentMB(workerPID))
        }
        // Warm after a minute (the pools filled, the caches sized): growth is measured from there
        // (a short run's from its first sample).
        let warm = soakSeconds >= 120 ? 60 / every - 1 : 0
        func growth(_ samples: [Double]) -> Double {
            samples[warm] > 0 ? ((samples.last! / samples[warm]) * 1000).rounded() / 1000 : 0
        }
        return Memory(rate: Self.soakRate, seconds: soakSeconds, accepted: accepted, apiMB: apiMB, workerMB: workerMB, every: every,
                      warm: warm, apiGrowth: growth(apiMB), workerGrowth: growth(workerMB))
    }

    /// The reconciler's scan (`Reconciler.staleSQL`, as its pass runs it), median of 20, ms.
    func reconcilerScan(_ pool: PostgresPool) async throws -> Double {
        var times: [Double] = []
        for _ in 0..<20 {
            let start = ContinuousClock.now
            _ = try await pool.query(Reconciler.staleSQL, [120.0])
            let elapsed = (ContinuousClock.now - start).components
            times.append(Double(elapsed.seconds) * 1000 + Double(elapsed.attoseconds) / 1e15)
        }
        return (times.sorted()[times.count / 2] * 100).rounded() / 100
    }

    /// `count` ended callbacks of the bench site spread over the past year, each with an
    /// answered attempt, as a site's history would be; then ANALYZE, as autovacuum would.
    func makeHistory(database: String, siteID: String, count: Int) async throws {
        let result = try await ChildProcess.run("/usr/bin/psql", [database, "-v", "ON_ERROR_STOP=1", "-c", """
            INSERT INTO callbacks (site_id, phone, status, created_at, updated_at, phone_lookup, phone_tail, channel, client_address, page_url)
            SELECT '\(siteID)', 'v1.dev.' || md5(i::text) || md5((i + 1)::text), (ARRAY['completed', 'failed', 'canceled'])[1 + i % 3],
                   now() - make_interval(secs => i * 31.0), now() - make_interval(secs => i * 31.0), md5('history' || i), right(i::text, 4),
                   'production', '10.9.' || (i % 250) || '.' || (i % 200), 'https://bench.example/history'
            FROM generate_series(1, \(count)) AS i;
            """, "-c", """
            INSERT INTO attempts (callback_id, n, outcome, started_at, ended_at)
            SELECT id, 1, 'answered', created_at, created_at + interval '40 seconds' FROM callbacks WHERE page_url = 'https://bench.example/history';
            """, "-c", "ANALYZE"], timeout: .seconds(1800))
        guard result.status == 0 else { throw BenchError("making the history: \(result.output.suffix(800))") }
    }

    /// Cancels every callback not yet ended: their jobs then end at once.
    func cancelActive(_ pool: PostgresPool) async throws {
        try await pool.query("UPDATE callbacks SET status = 'canceled', updated_at = now() WHERE status IN ('queued', 'scheduled', 'dialing', 'retry_wait')")
    }

    /// Cancels what is still to dial, then waits (up to five minutes) until the cluster is
    /// quiet: no outbox row waits and no job is ready or running on any queue, three looks in a
    /// row half a second apart (the sandbox's calls, a tenth of real time, have ended by then).
    func quiet(redisPort: Int, pool: PostgresPool) async throws {
        try await cancelActive(pool)
        let redis = RedisPool(configuration: RedisConfiguration(url: RedisURL(host: "127.0.0.1", port: redisPort), poolSize: 1))
        defer { Task { await redis.close() } }
        let jobs = JobQueue(redis: redis)
        let deadline = ContinuousClock.now + .seconds(300)
        var quietLooks = 0
        while ContinuousClock.now < deadline {
            var busy: Int = try await pool.query("SELECT count(*)::int AS n FROM outbox WHERE relayed_at IS NULL")[0].decode("n")
            for queue in ["callbacks", "notifications", "recordings", "reports"] {
                let stats = try await jobs.stats(queue: queue)
                busy += stats.ready + stats.active
            }
            quietLooks = busy == 0 ? quietLooks + 1 : 0
            if quietLooks == 3 { return }
            try await Task.sleep(for: .milliseconds(500))
        }
        throw BenchError("the cluster was not quiet within five minutes")
    }

    static func residentMB(_ pid: Int32) -> Double {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        guard let kilobytes = status.firstMatch(of: /VmRSS:\s+([0-9]+) kB/).flatMap({ Double($0.1) }) else { return 0 }
        return (kilobytes / 1024 * 10).rounded() / 10
    }
}
