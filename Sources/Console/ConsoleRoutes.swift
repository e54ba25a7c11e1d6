import CryptoPrimitives
import Domain
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import PostgresClient
import Providers
import Queue
import RedisClient
import ReleaseGate

/// The operations console at `/admin` (`redial serve`, behind `REDIAL_ADMIN_TOKEN`): queues
/// with pause and resume, dead jobs with retry and delete, a job's record, live workers, and
/// callbacks with their journey. Server-rendered; every action is a POST carrying the session's
/// CSRF token from the console's own origin, asks for confirmation, and is logged with who did it.
public struct ConsoleRoutes: Sendable {
    let sessions: AdminSessions?
    let jobs: JobQueue
    let redis: RedisPool
    let database: PostgresPool
    /// Opens the sealed numbers it shows (masked).
    let protection: DataProtection
    let pages: PageTemplates
    let gate: ReleaseGate
    let alertmanager: Alertmanager
    let prometheus: PrometheusAPI
    let logger: Logger
    static let cookie = "redial_admin"

    /// - Parameter token: the admin credential; nil, the console answers that it is off.
    /// - Parameters:
    ///   - alertmanagerURL, prometheusURL: where the watchdog page reads alerts and probe history.
    public init(token: String?, redis: RedisPool, database: PostgresPool, protection: DataProtection, alertmanagerURL: String, prometheusURL: String,
                logger: Logger) throws {
        alertmanager = Alertmanager(baseURL: alertmanagerURL)
        prometheus = PrometheusAPI(baseURL: prometheusURL)
        sessions = token.map { AdminSessions(redis: redis, token: $0) }
        jobs = JobQueue(redis: redis)
        self.redis = redis
        self.database = database
        self.protection = protection
        pages = try PageTemplates.console()
        gate = ReleaseGate(database: database, jobs: jobs)
        self.logger = logger
    }

    /// - Parameter clientAddress: the client a request comes from (the API's own rule: the peer,
    ///   or what a trusted proxy says), for the sign-in limit and the audit log.
    public func add<Context: RequestContext>(to router: Router<Context>, clientAddress: @escaping @Sendable (Request, Context) -> String) {
        router.get("/admin/console.js") { _, _ in Self.asset(PackageResources.console_js, type: "application/javascript; charset=utf-8") }
        router.get("/admin/console.css") { _, _ in Self.asset(PackageResources.console_css, type: "text/css; charset=utf-8") }
        router.get("/admin/sign-in") { _, _ in signInPage() }
        router.post("/admin/sign-in") { request, context in try await signIn(request, client: clientAddress(request, context)) }
        router.post("/admin/sign-out") { request, context in
            try await act(request, clientAddress(request, context)) { _, _, _ in
                if let id = ServerForms.cookie(Self.cookie, in: request) { try await sessions?.signOut(id: id) }
                return Response(status: .seeOther, headers: [.location: "/admin/sign-in", .setCookie: Self.clearedCookie])
            }
        }
        router.get("/admin") { request, _ in
            try await page(request) { csrf in try await overview(csrf, notice: request.uri.queryParameters.get("done")) }
        }
        router.post("/admin/queues/pause") { request, context in
            try await act(request, clientAddress(request, context)) { form, _, who in
                let queue = try await known(form["queue"])
                _ = try await jobs.pause(queue: queue, reason: "paused from the console by \(who)")
                return Self.back("/admin", "queue \(queue) paused")
            }
        }
        router.post("/admin/queues/resume") { request, context in
            try await act(request, clientAddress(request, context)) { form, _, _ in
                let queue = try await known(form["queue"])
                _ = try await jobs.resume(queue: queue)
                return Self.back("/admin", "queue \(queue) resumed")
            }
        }
        router.get("/admin/dead") { request, _ in try await page(request) { csrf in try await dead(request, csrf) } }
        router.post("/admin/dead/retry") { request, context in
            try await act(request, clientAddress(request, context)) { form, _, _ in
                let queue = try await known(form["queue"])
                let done = try await jobs.retryDead(queue: queue, id: form["id"] ?? "")
                return Self.back("/admin/dead?queue=\(queue)", done ? "job \(form["id"] ?? "") sent back to ready" : "job \(form["id"] ?? "") is no longer dead")
            }
        }
        router.post("/admin/dead/delete") { request, context in
            try await act(request, clientAddress(request, context)) { form, _, _ in
                let queue = try await known(form["queue"])
                let done = try await jobs.deleteDead(queue: queue, id: form["id"] ?? "")
                return Self.back("/admin/dead?queue=\(queue)", done ? "job \(form["id"] ?? "") deleted" : "job \(form["id"] ?? "") is no longer dead")
            }
        }
        for (path, retry) in [("/admin/dead/retry-all", true), ("/admin/dead/delete-all", false)] {
            router.post(RouterPath(path)) { request, context in
                try await act(request, clientAddress(request, context)) { form, _, _ in
                    let queue = try await known(form["queue"])
                    var count = 0
                    for job in try await matchingDead(queue: queue, type: form["type"] ?? "", reason: form["reason"] ?? "") {
                        let done = retry ? try await jobs.retryDead(queue: queue, id: job.id) : try await jobs.deleteDead(queue: queue, id: job.id)
                        if done { count += 1 }
                    }
                    return Self.back("/admin/dead?queue=\(queue)", "\(count) dead jobs \(retry ? "sent back to ready" : "deleted")")
                }
            }
        }
        router.get("/admin/jobs") { request, _ in try await page(request) { csrf in try await findJobs(request, csrf) } }
        router.get("/admin/workers") { request, _ in try await page(request) { csrf in try await workers(csrf) } }
        router.get("/admin/callbacks") { request, _ in try await page(request) { csrf in try await callbacks(request, csrf) } }
        router.get("/admin/releases") { request, _ in try await page(request) { csrf in try await releases(request, csrf) } }
        router.post("/admin/releases/promote") { request, context in
            try await act(request, clientAddress(request, context)) { form, _, who in
                let version = form["version"] ?? ""
                do {
                    _ = try await gate.promote(version: version, actor: who, force: false, reason: nil)
                    return Self.back("/admin/releases?version=\(version)", "release \(version) promoted")
                } catch {
                    throw ConsoleProblem("release \(version): \(error)")
                }
            }
        }
        router.post("/admin/releases/rollback") { request, context in
            try await act(request, clientAddress(request, context)) { form, _, who in
                let version = form["version"] ?? ""
                do {
                    try await gate.rollback(version: version, actor: who, reason: "rolled back from the console")
                    return Self.back("/admin/releases?version=\(version)", "release \(version) rolled back")
                } catch {
                    throw ConsoleProblem("release \(version): \(error)")
                }
            }
        }
        router.get("/admin/watchdog") { request, _ in try await page(request) { csrf in try await watchdog(request, csrf) } }
        router.post("/admin/alerts/ack") { request, context in
            try await act(request, clientAddress(request, context)) { form, _, who in
                let id = form["id"] ?? ""
                guard let alert = try await alertmanager.alerts().first(where: { $0.id == id }) else { throw ConsoleProblem("no alert \(id.prefix(40))") }
                try await PageAcks(database: database).acknowledge(fingerprint: id, by: who)
                return Self.back("/admin/watchdog", "\(alert.name) acknowledged: no more pages for it until it resolves")
            }
        }
        router.post("/admin/alerts/silence") { request, context in
            try await act(request, clientAddress(request, context)) { form, _, who in
                let id = form["id"] ?? ""
                guard let alert = try await alertmanager.alerts().first(where: { $0.id == id }) else { throw ConsoleProblem("no alert \(id.prefix(40))") }
                let matchers = alert.labels.sorted { $0.key < $1.key }.map { Alertmanager.Matcher(name: $0.key, value: $0.value) }
                let silence = try await alertmanager.silence(matchers, for: .seconds(3600), by: who, comment: "silenced from the console")
                return Self.back("/admin/watchdog", "\(alert.name) silenced for 1 h (silence \(silence))")
            }
        }
        router.get("/admin/sites") { request, _ in try await page(request) { csrf in try await sites(request, csrf) } }
        router.post("/admin/sites/channel") { request, context in
            try await act(request, clientAddress(request, context)) { form, _, _ in
                let id = form["id"] ?? ""
                guard UUID(uuidString: id) != nil, let channel = form["channel"], ["beta", "production"].contains(channel),
                      try await SiteStore(database: database, protection: protection).setChannel(id: id, beta: channel == "beta") else {
                    throw ConsoleProblem("no site \(id.prefix(40)), or no channel '\((form["channel"] ?? "").prefix(20))' (beta or production)")
                }
                return Self.back("/admin/sites", "site \(id): new callbacks go to \(channel)")
            }
        }
        router.post("/admin/sites/rotate-key") { request, context in
            try await act(request, clientAddress(request, context)) { form, csrf, _ in
                let id = form["id"] ?? ""
                guard let seconds = form["grace"].flatMap({ Int64($0) }), seconds >= 0,
                      .seconds(seconds) <= SiteStore.longestKeyGrace else { throw ConsoleProblem("grace: expected 0 to 30 days in seconds") }
                let store = SiteStore(database: database, protection: protection)
                guard let site = try await store.find(id: id), let rotated = try await store.rotateKey(id: id, grace: .seconds(seconds)) else {
                    throw ConsoleProblem("no site \(id.prefix(40))")
                }
                // The key goes in this page, never in a URL (a redirect's would sit in logs and history).
                var values: [String: Any] = ["name": site.name, "key": rotated.key]
                values["oldKeyExpires"] = seconds > 0 ? rotated.oldKeyExpires : nil
                return pages.render("sitekey", title: "New key for \(site.name)", csrf: csrf, values: values)
            }
        }
        router.post("/admin/sites/revoke-previous-key") { request, context in
            try await act(request, clientAddress(request, context)) { form, _, _ in
                let id = form["id"] ?? ""
                guard try await SiteStore(database: database, protection: protection).revokePreviousKey(id: id) else {
                    throw ConsoleProblem("site \(id.prefix(40)) has no old key still working")
                }
                return Self.back("/admin/sites", "site \(id): the old key no longer works")
            }
        }
        router.get("/admin/callbacks/:id") { request, context in
            try await page(request) { csrf in try await callback(context.parameters.get("id") ?? "", csrf) }
        }
    }

    // MARK: Signing in, sessions and actions

    private func signInPage(problem: String? = nil, status: HTTPResponse.Status = .ok) -> Response {
        guard sessions != nil else { return disabled() }
        return pages.render("signin", title: "Sign in", csrf: nil, problem: problem, status: status)
    }

    private func disabled() -> Response {
        pages.render("signin", title: "Console off", csrf: nil,
                     problem: "The operations console is off: set REDIAL_ADMIN_TOKEN (at least 16 characters) for `redial serve`.",
                     status: .notFound)
    }

    /// Wrong tokens a client may offer in `signInWindow` before its sign-ins are refused until
    /// the window has passed (the right token too: a guesser cannot tell).
    static let signInAttempts = 10
    static let signInWindow = 900

    private func signIn(_ request: Request, client: String) async throws -> Response {
        guard let sessions else { return disabled() }
        let form = try await ServerForms.form(request)
        guard ServerForms.sameOrigin(request) else { return signInPage(problem: "Refused: the form came from another origin.", status: .forbidden) }
        let failures = "redial:admin:sign-in-failures:" + client
        if let count = try await redis.send("GET", failures).string.flatMap(Int.init), count >= Self.signInAttempts {
            logger.warning("console: a sign-in from \(client) refused: \(count) wrong tokens in \(Self.signInWindow / 60) minutes")
            return signInPage(problem: "Too many wrong tokens from your address: try again in \(Self.signInWindow / 60) minutes.",
                              status: .tooManyRequests)
        }
        guard let (id, _) = try await sessions.signIn(offered: form["token"] ?? "") else {
            _ = try await redis.pipeline([.make("INCR", failures), .make("EXPIRE", failures, Self.signInWindow, "NX")])
            logger.warning("console: a sign-in with a wrong token from \(client)")
            return signInPage(problem: "Wrong token.", status: .unauthorized)
        }
        logger.notice("console: signed in from \(client)")
        let cookie = "\(Self.cookie)=\(id); Path=/admin; HttpOnly; SameSite=Strict; Max-Age=\(Int(AdminSessions.lifetime.components.seconds))"
        return Response(status: .seeOther, headers: [.location: "/admin", .setCookie: cookie])
    }

    /// A page for a signed-in operator; anyone else goes to the sign-in page.
    private func page(_ request: Request, _ render: (String) async throws -> Response) async throws -> Response {
        guard let sessions else { return disabled() }
        guard let id = ServerForms.cookie(Self.cookie, in: request), let session = try await sessions.session(id: id) else {
            return Response(status: .seeOther, headers: [.location: "/admin/sign-in"])
        }
        do {
            return try await render(session.csrf)
        } catch let problem as ConsoleProblem {
            return pages.render("job", title: "Not found", csrf: session.csrf, problem: problem.message, status: .notFound)
        }
    }

    /// An action: a signed-in session, its CSRF token in the form, the console's own origin; then
    /// `perform` (with the form and who acts), logged.
    private func act(_ request: Request, _ client: String,
                     _ perform: ([String: String], _ csrf: String, _ who: String) async throws -> Response) async throws -> Response {
        guard let sessions else { return disabled() }
        let form = try await ServerForms.form(request)
        guard let id = ServerForms.cookie(Self.cookie, in: request), let session = try await sessions.session(id: id) else {
            return pages.render("signin", title: "Sign in", csrf: nil, problem: "Refused: sign in first.", status: .unauthorized)
        }
        guard ServerForms.sameOrigin(request),
              ConstantTime.equal(SHA256.hash(Array((form["csrf"] ?? "").utf8)), SHA256.hash(Array(session.csrf.utf8))) else {
            logger.warning("console: an action without a valid CSRF token or from another origin refused (\(request.uri.path))")
            return pages.render("job", title: "Refused", csrf: session.csrf,
                                problem: "Refused: the action did not come from this console's own page (CSRF).", status: .forbidden)
        }
        let who = "admin from \(client)"
        do {
            let response = try await perform(form, session.csrf, who)
            logger.notice("console: \(request.uri.path) \(form.filter { $0.key != "csrf" }.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")) by \(who)")
            return response
        } catch let problem as ConsoleProblem {
            return pages.render("job", title: "Refused", csrf: session.csrf, problem: problem.message, status: .badRequest)
        }
    }

    /// A queue name the cluster knows (a form's is not trusted to be one).
    private func known(_ name: String?) async throws -> String {
        guard let name, try await jobs.queues().contains(name) else { throw ConsoleProblem("no queue named '\((name ?? "").prefix(80))'") }
        return name
    }

    // MARK: Pages

    private func overview(_ csrf: String, notice: String?) async throws -> Response {
        var rows: [[String: Any]] = []
        let names = try await jobs.queues()
        for name in names {
            let stats = try await jobs.stats(queue: name)
            var row: [String: Any] = ["name": name, "ready": stats.ready, "delayed": stats.delayed, "active": stats.active,
                                      "dead": stats.dead, "hasDead": stats.dead > 0, "oldest": Self.age(try await jobs.oldestReadyAge(queue: name))]
            row["paused"] = try await jobs.pauseReason(queue: name)
            rows.append(row)
        }
        let live = try await jobs.liveWorkers(queues: names).count
        var values: [String: Any] = ["queues": rows, "workers": live]
        do {
            // Not the dead-man's switch (severity none): it always fires, and says all is well.
            let firing = try await alertmanager.alerts().filter { $0.state == "firing" && $0.labels["severity"] != "none" }
            values["hasFiring"] = !firing.isEmpty
            values["firing"] = firing.map { alert -> [String: Any] in ["name": alert.name, "since": alert.since, "summary": alert.summary ?? ""] }
        } catch {
            values["alertProblem"] = "\(error)"
        }
        do {
            values["charts"] = try await charts()
        } catch {
            values["chartProblem"] = "charts: \(error)"
        }
        return pages.render("overview", title: "Overview", csrf: csrf, values: values, notice: notice, refresh: 10)
    }

    /// Each queue's last hour from Prometheus (the watchdog's figures of the queues' Redis
    /// counters): jobs waiting, completions per minute, p99 run time.
    private func charts() async throws -> [[String: Any]] {
        let since = Date().addingTimeInterval(-3600)
        func byQueue(_ query: String) async throws -> [String: [(time: Double, value: Double)]] {
            Dictionary(try await prometheus.query(query, start: since).map { ($0.labels["queue"] ?? "", $0.samples) }) { a, _ in a }
        }
        let waiting = try await byQueue(#"sum by (queue) (redial_queue_jobs{state=~"ready|delayed"})"#)
        let perMinute = try await byQueue("sum by (queue) (rate(redial_queue_completed[5m])) * 60")
        let p99 = try await byQueue("histogram_quantile(0.99, sum by (queue, le) (rate(redial_queue_run_seconds_bucket[5m])))")
        return Set(waiting.keys).union(perMinute.keys).sorted().map { queue in
            ["name": queue,
             "waiting": Self.lineChart(waiting[queue] ?? [], since: since) { String(format: "%.0f", $0) },
             "perMinute": Self.lineChart(perMinute[queue] ?? [], since: since) { String(format: "%.1f", $0) },
             "p99": Self.lineChart(p99[queue] ?? [], since: since) { $0 < 1 ? String(format: "%.0f ms", $0 * 1000) : String(format: "%.1f s", $0) }]
        }
    }

    /// A small line chart of an hour's samples, scaled to its own highest value, with the last
    /// value beside it.
    static func lineChart(_ samples: [(time: Double, value: Double)], since start: Date, format: (Double) -> String) -> String {
        let finite = samples.filter { $0.value.isFinite }
        guard let last = finite.last else { return "—" }
        let top = max(finite.map(\.value).max() ?? 0, 1e-9)
        let points = finite.map { sample in
            String(format: "%.1f,%.1f", (sample.time - start.timeIntervalSince1970) / 3600 * 160, 28 - sample.value / top * 26)
        }.joined(separator: " ")
        return "<svg class=\"chart\" width=\"160\" height=\"30\" role=\"img\" aria-label=\"last hour, highest \(format(top))\">"
            + "<polyline fill=\"none\" stroke=\"#3557b7\" stroke-width=\"1.5\" points=\"\(points)\"/></svg> \(format(last.value))"
    }

    private func matchingDead(queue: String, type: String, reason: String) async throws -> [JobRecord] {
        try await jobs.dead(queue: queue, limit: 1000).filter { job in
            (type.isEmpty || job.type == type) && (reason.isEmpty || (job.lastError ?? "").localizedCaseInsensitiveContains(reason))
        }
    }

    private func dead(_ request: Request, _ csrf: String) async throws -> Response {
        let names = try await jobs.queues()
        let queue = request.uri.queryParameters.get("queue").flatMap { names.contains($0) ? $0 : nil } ?? names.first
        let type = request.uri.queryParameters.get("type") ?? ""
        let reason = request.uri.queryParameters.get("reason") ?? ""
        var matching: [JobRecord] = []
        if let queue { matching = try await matchingDead(queue: queue, type: type, reason: reason) }
        let rows: [[String: Any]] = matching.map { job in
            ["id": job.id, "queue": queue ?? "", "type": job.type, "attempt": job.attempt, "maxAttempts": job.maxAttempts,
             "error": PhoneMask.maskNumbers(in: job.lastError ?? "")]
        }
        var values: [String: Any] = ["queues": names.map { ["name": $0, "selected": $0 == queue] }, "jobs": rows, "type": type,
                                     "reason": reason, "count": rows.count]
        values["queue"] = queue
        return pages.render("dead", title: "Dead jobs" + (queue.map { " · \($0)" } ?? ""), csrf: csrf, values: values,
                            notice: request.uri.queryParameters.get("done"))
    }

    /// A job by id, or the jobs of a type or of a callback (its id in their payloads) among what
    /// every queue holds: held, ready, scheduled, dead and recently completed, newest first.
    private func findJobs(_ request: Request, _ csrf: String) async throws -> Response {
        if request.uri.queryParameters.get("id") != nil { return try await job(request, csrf) }
        let query = (request.uri.queryParameters.get("q") ?? "").trimmingCharacters(in: .whitespaces)
        var values: [String: Any] = ["jobs": [[String: Any]]()]
        guard !query.isEmpty else { return pages.render("jobs", title: "Jobs", csrf: csrf, values: values) }
        values["query"] = query
        if query.utf8.count <= 200, let record = try await jobs.find(id: query) {
            return Self.redirect("/admin/jobs?queue=\(Self.percentEncoded(record.queue))&id=\(Self.percentEncoded(record.id))")
        }
        let callback = UUID(uuidString: query)?.uuidString.lowercased()
        var found: [JobRecord] = []
        for queue in try await jobs.queues() {
            found += try await jobs.recent(queue: queue).filter { job in
                callback.map { job.payload.lowercased().contains($0) } ?? (job.type == query)
            }
        }
        func enqueued(_ job: JobRecord) -> Int64 { job.fields["enqueued_at"].flatMap { Int64($0) } ?? 0 }
        values["jobs"] = found.sorted { enqueued($0) > enqueued($1) }.prefix(200).map { job -> [String: Any] in
            ["id": job.id, "queue": job.queue, "type": job.type, "state": job.state?.rawValue ?? "?", "attempt": job.attempt,
             "maxAttempts": job.maxAttempts,
             "enqueued": Date(timeIntervalSince1970: Double(enqueued(job)) / 1000).formatted(.iso8601),
             "error": PhoneMask.maskNumbers(in: String((job.lastError ?? "").prefix(200)))]
        }
        values["searched"] = callback == nil ? "of type \(query)" : "of callback \(query)"
        return pages.render("jobs", title: "Jobs", csrf: csrf, values: values)
    }

    private func job(_ request: Request, _ csrf: String) async throws -> Response {
        let queue = request.uri.queryParameters.get("queue") ?? ""
        let id = request.uri.queryParameters.get("id") ?? ""
        guard try await jobs.queues().contains(queue), let record = try await jobs.record(queue: queue, id: id) else {
            throw ConsoleProblem("no job \(id.prefix(40)) in queue '\(queue.prefix(80))'")
        }
        let fields: [[String: Any]] = record.fields.sorted { $0.key < $1.key }.map { name, value in
            let shown = ["payload", "last_error"].contains(name) ? PhoneMask.maskNumbers(in: value) : value
            return ["name": name, "value": shown, "pre": name == "payload" || name == "last_error"]
        }
        return pages.render("job", title: "Job \(id)", csrf: csrf, values: ["fields": fields])
    }

    private func workers(_ csrf: String) async throws -> Response {
        let names = try await jobs.queues()
        let live = try await jobs.liveWorkers(queues: names)
        var queuesOf: [String: [String]] = [:]
        var held: [String: Int] = [:]
        var beat: [String: Double] = [:]
        let now = Date().timeIntervalSince1970 * 1000
        for queue in names {
            let keys = Keys(queue: queue)
            let scored = try await redis.send("ZRANGE", keys.workers, 0, -1, "WITHSCORES").array?.compactMap(\.string) ?? []
            for index in stride(from: 0, to: scored.count - 1, by: 2) where live.keys.contains(scored[index]) {
                let worker = scored[index]
                queuesOf[worker, default: []].append(queue)
                held[worker, default: 0] += try await redis.send("HLEN", keys.held(worker)).int ?? 0
                beat[worker] = max(beat[worker] ?? 0, Double(scored[index + 1]) ?? 0)
            }
        }
        let rows: [[String: Any]] = live.keys.sorted().map { id in
            let release = live[id] ?? nil
            return ["id": id, "channel": release?.channel.rawValue ?? "?", "version": release?.version ?? "unannounced",
                    "build": release?.build ?? "", "queues": (queuesOf[id] ?? []).joined(separator: ", "), "held": held[id] ?? 0,
                    "beat": beat[id].map { String(format: "%.1f s ago", max(0, now - $0) / 1000) } ?? "?"]
        }
        return pages.render("workers", title: "Workers", csrf: csrf, values: ["workers": rows])
    }

    private func callbacks(_ request: Request, _ csrf: String) async throws -> Response {
        let query = (request.uri.queryParameters.get("q") ?? "").trimmingCharacters(in: .whitespaces)
        var rows: [PostgresRow] = []
        if UUID(uuidString: query) != nil {
            rows = try await database.query("""
                SELECT c.id::text AS id, c.created_at::text AS created, s.name AS site, c.phone, c.status, c.channel
                FROM callbacks c JOIN sites s ON s.id = c.site_id WHERE c.id = $1::uuid OR c.site_id = $1::uuid
                ORDER BY c.created_at DESC LIMIT 50
                """, [query])
        } else if query.count >= 3, query.allSatisfy(\.isNumber) {
            // Numbers are sealed: the index holds their last four digits, the rest is matched opened.
            rows = try await database.query("""
                SELECT c.id::text AS id, c.created_at::text AS created, s.name AS site, c.phone, c.status, c.channel
                FROM callbacks c JOIN sites s ON s.id = c.site_id
                WHERE CASE WHEN length($1) >= 4 THEN c.phone_tail = right($1, 4) ELSE c.phone_tail LIKE '%' || $1 END
                ORDER BY c.created_at DESC LIMIT 500
                """, [query])
            rows = Array(rows.filter { (try? protection.open(try $0.decode("phone"), .callbackPhone))?.hasSuffix(query) == true }.prefix(50))
        } else if !query.isEmpty {
            rows = try await database.query("""
                SELECT c.id::text AS id, c.created_at::text AS created, s.name AS site, c.phone, c.status, c.channel
                FROM callbacks c JOIN sites s ON s.id = c.site_id WHERE s.name ILIKE '%' || $1 || '%' ORDER BY c.created_at DESC LIMIT 50
                """, [query])
        }
        let found: [[String: Any]] = try rows.map { row in
            ["id": try row.decode("id", as: String.self), "created": try row.decode("created", as: String.self),
             "site": try row.decode("site", as: String.self), "phone": try shown(row.decode("phone"), .callbackPhone),
             "status": try row.decode("status", as: String.self), "channel": try row.decode("channel", as: String.self)]
        }
        var values: [String: Any] = ["callbacks": found]
        values["query"] = query.isEmpty ? nil : query
        return pages.render("callbacks", title: "Callbacks", csrf: csrf, values: values)
    }

    /// One callback's journey, in time order: accepted, each attempt and its outcome, the
    /// messages sent about it and their delivery, its recording, its debit.
    private func callback(_ id: String, _ csrf: String) async throws -> Response {
        guard UUID(uuidString: id) != nil, let row = try await database.query("""
            SELECT c.created_at, s.name AS site, c.phone, c.status, c.reason, c.channel, c.call_at
            FROM callbacks c JOIN sites s ON s.id = c.site_id WHERE c.id = $1::uuid
            """, [id]).first else { throw ConsoleProblem("no callback \(id.prefix(40))") }
        var events: [(at: String, kind: String, text: String)] = []
        events.append((try row.decode("created_at"), "accepted", "accepted" + ((try row.decodeIfPresent("call_at", as: String.self)).map { ", to be called at \($0)" } ?? "")))
        for attempt in try await database.query("""
            SELECT n, started_at::text AS started, ended_at::text AS ended, outcome, sip_code, provider_call_id
            FROM attempts WHERE callback_id = $1::uuid ORDER BY n
            """, [id]) {
            let n: Int = try attempt.decode("n")
            let call = (try attempt.decodeIfPresent("provider_call_id", as: String.self)).map { " (carrier call \($0))" } ?? ""
            events.append((try attempt.decode("started"), "attempt", "attempt \(n) dialled\(call)"))
            if let ended = try attempt.decodeIfPresent("ended", as: String.self) {
                let sip = (try attempt.decodeIfPresent("sip_code", as: Int.self)).map { " (SIP \($0))" } ?? ""
                events.append((ended, "outcome", "attempt \(n): \(try attempt.decodeIfPresent("outcome", as: String.self) ?? "ended")\(sip)"))
            }
        }
        for message in try await database.query("""
            SELECT channel, message, status, sent_at::text AS sent, status_at::text AS settled FROM deliveries
            WHERE effect_key LIKE '%:' || $1 || ':%' ORDER BY sent_at
            """, [id]) {
            let channel: String = try message.decode("channel")
            let name: String = try message.decode("message")
            events.append((try message.decode("sent"), "message", "\(channel) '\(name)' sent"))
            let status: String = try message.decode("status")
            if status != "sent" { events.append((try message.decode("settled"), "delivery", "\(channel) '\(name)' \(status)")) }
        }
        for recording in try await database.query("""
            SELECT attempt, size_bytes, uploaded_at::text AS at FROM recordings WHERE callback_id = $1::uuid ORDER BY uploaded_at
            """, [id]) {
            events.append((try recording.decode("at"), "recording",
                           "recording of attempt \(try recording.decode("attempt", as: Int.self)) stored (\(try recording.decode("size_bytes", as: Int.self)) bytes)"))
        }
        if let debit = try await database.query("""
            SELECT completed_at::text AS at, result::text AS result FROM effects WHERE effect_key = 'debit:' || $1 AND state = 'done'
            """, [id]).first, let at = try debit.decodeIfPresent("at", as: String.self) {
            events.append((at, "debit", "minutes debited"))
        }
        events.sort { $0.at < $1.at }
        var values: [String: Any] = ["id": id, "site": try row.decode("site", as: String.self), "phone": try shown(row.decode("phone"), .callbackPhone),
                                     "status": try row.decode("status", as: String.self), "channel": try row.decode("channel", as: String.self),
                                     "events": events.map { ["at": $0.at, "kind": $0.kind, "text": $0.text] }]
        values["reason"] = try row.decodeIfPresent("reason", as: String.self)
        return pages.render("callback", title: "Callback \(id)", csrf: csrf, values: values)
    }

    /// The soaking release (or the one asked for, else the newest) against production, metric
    /// by metric, with promote and roll back while it soaks; the history of every release action.
    private func releases(_ request: Request, _ csrf: String) async throws -> Response {
        var version = request.uri.queryParameters.get("version")
        if version == nil {
            version = try await database.query("""
                SELECT version FROM releases ORDER BY (state = 'soaking') DESC, started_at DESC LIMIT 1
                """).first?.decode("version", as: String.self)
        }
        var values: [String: Any] = [:]
        if let version {
            let report: GateReport
            do { report = try await gate.report(version: version) } catch { throw ConsoleProblem("\(error)") }
            values["report"] = [
                "version": report.version, "state": report.state.replacingOccurrences(of: "_", with: " "), "soaking": report.state == "soaking",
                "soaked": GateReport.duration(report.elapsedSeconds), "window": GateReport.duration(report.windowSeconds),
                "reasons": report.reasons, "promotable": report.promotable,
                "metrics": report.metrics.map { metric -> [String: Any] in
                    ["name": metric.name, "production": metric.formatted(metric.production), "beta": metric.formatted(metric.beta),
                     "productionSamples": metric.productionSamples, "betaSamples": metric.betaSamples,
                     "verdict": metric.verdict.rawValue, "threshold": metric.threshold, "minimumSamples": metric.minimumSamples]
                },
            ] as [String: Any]
        }
        let events = try await database.query("""
            SELECT at::text AS at, version, action, actor, forced, coalesce(reason, '') AS reason FROM release_events ORDER BY id DESC LIMIT 50
            """)
        values["events"] = try events.map { row -> [String: Any] in
            ["at": try row.decode("at", as: String.self), "version": try row.decode("version", as: String.self),
             "action": try row.decode("action", as: String.self), "actor": try row.decode("actor", as: String.self),
             "forced": try row.decode("forced", as: Bool.self), "reason": try row.decode("reason", as: String.self)]
        }
        return pages.render("releases", title: "Releases", csrf: csrf, values: values, notice: request.uri.queryParameters.get("done"))
    }

    /// Each probe's state (the active watchdog's, through Prometheus) with its last hour, and the
    /// alerts Alertmanager holds, with acknowledge and silence. Either source out of reach is said
    /// on the page; the rest still shows.
    private func watchdog(_ request: Request, _ csrf: String) async throws -> Response {
        var values: [String: Any] = [:]
        do {
            let now = try await prometheus.query("max by (probe, target) (redial_probe_up)")
            let last = try await prometheus.query("max by (probe, target) (redial_probe_last_success_timestamp_seconds)")
            let history = try await prometheus.query("min by (probe, target) (redial_probe_up)", start: Date().addingTimeInterval(-3600))
            func key(_ labels: [String: String]) -> String { "\(labels["probe"] ?? "")/\(labels["target"] ?? "")" }
            let lastSuccess = Dictionary(last.map { (key($0.labels), $0.samples.last?.value ?? 0) }) { a, _ in a }
            let past = Dictionary(history.map { (key($0.labels), $0.samples) }) { a, _ in a }
            values["probes"] = now.sorted { key($0.labels) < key($1.labels) }.map { series -> [String: Any] in
                let name = key(series.labels)
                let up = (series.samples.last?.value ?? 0) >= 1
                return ["probe": series.labels["probe"] ?? "", "target": series.labels["target"] ?? "", "state": up ? "up" : "down",
                        "lastSuccess": lastSuccess[name].map { Self.age(.seconds(max(1, Date().timeIntervalSince1970 - $0))) + " ago" } ?? "never",
                        "history": Self.sparkline(past[name] ?? [], since: Date().addingTimeInterval(-3600))]
            }
        } catch {
            values["probeProblem"] = "\(error)"
        }
        do {
            values["alerts"] = try await alertmanager.alerts().filter { $0.state != "resolved" }.map { alert -> [String: Any] in
                ["id": alert.id, "name": alert.name, "state": alert.state, "since": alert.since, "summary": alert.summary ?? "",
                 "labels": alert.labels.filter { $0.key != "alertname" }.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")]
            }
        } catch {
            values["alertProblem"] = "\(error)"
        }
        return pages.render("watchdog", title: "Watchdog", csrf: csrf, values: values, notice: request.uri.queryParameters.get("done"), refresh: 15)
    }

    /// A probe's last hour as a strip of minutes: green up, red down, grey no sample.
    static func sparkline(_ samples: [(time: Double, value: Double)], since start: Date) -> String {
        var cells = [Double?](repeating: nil, count: 60)
        for sample in samples {
            let minute = Int((sample.time - start.timeIntervalSince1970) / 60)
            if (0..<60).contains(minute) { cells[minute] = min(cells[minute] ?? 1, sample.value) }
        }
        let bars = cells.enumerated().map { index, value in
            let colour = value.map { $0 >= 1 ? "#1a7f37" : "#c62828" } ?? "#d0d4dc"
            return "<rect x=\"\(index * 3)\" y=\"0\" width=\"2\" height=\"14\" fill=\"\(colour)\"/>"
        }
        return "<svg class=\"history\" width=\"180\" height=\"14\" role=\"img\" aria-label=\"last hour\">" + bars.joined() + "</svg>"
    }

    /// A sealed number as operators see it: opened and masked; one under a key this process's
    /// ring does not hold says so rather than failing the page.
    private func shown(_ sealed: String, _ column: SealedColumn) -> String {
        do {
            return PhoneMask.mask(try protection.open(sealed, column))
        } catch {
            return "sealed under key '\(DataProtection.keyID(of: sealed) ?? "?")', not held"
        }
    }

    /// Sites with their balance, hours, managers (masked), limits and release channel.
    private func sites(_ request: Request, _ csrf: String) async throws -> Response {
        let rows = try await database.query("""
            SELECT id::text AS id, name, balance_minutes, timezone, hours::text AS hours, to_jsonb(managers)::text AS managers,
                   limits::text AS limits, channel, active, to_char(key_rotated_at, 'YYYY-MM-DD HH24:MI TZ') AS rotated,
                   CASE WHEN previous_key_expires_at > now() THEN to_char(previous_key_expires_at, 'YYYY-MM-DD HH24:MI TZ') END AS previous_expires
            FROM sites ORDER BY created_at DESC LIMIT 200
            """)
        let sites: [[String: Any]] = try rows.map { row in
            let channel: String = try row.decode("channel")
            return ["id": try row.decode("id", as: String.self), "name": try row.decode("name", as: String.self),
                    "balance": try row.decode("balance_minutes", as: Int.self), "timezone": try row.decode("timezone", as: String.self),
                    "hours": try row.decode("hours", as: String.self), "limits": try row.decode("limits", as: String.self),
                    "managers": try JSONText.decode([String].self, try row.decode("managers", as: String.self))
                        .map { shown($0, .siteManagers) }
                        .joined(separator: ", "),
                    "channel": channel, "other": channel == "beta" ? "production" : "beta", "active": try row.decode("active", as: Bool.self),
                    "rotated": try row.decodeIfPresent("rotated", as: String.self) ?? "", "previousExpires": try row.decodeIfPresent("previous_expires", as: String.self) ?? ""]
        }
        return pages.render("sites", title: "Sites", csrf: csrf, values: ["sites": sites, "zoneNote": "local time"],
                            notice: request.uri.queryParameters.get("done"))
    }

    // MARK: Helpers

    private static func asset(_ bytes: [UInt8], type: String) -> Response {
        Response(status: .ok, headers: [.contentType: type, .cacheControl: "max-age=300"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// Back to `path` after an action, saying what was done.
    private static func back(_ path: String, _ done: String) -> Response {
        redirect(path + (path.contains("?") ? "&" : "?") + "done=" + percentEncoded(done))
    }

    private static func redirect(_ path: String) -> Response {
        Response(status: .seeOther, headers: [.location: path])
    }

    /// `text` as one query parameter's value.
    private static func percentEncoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed.subtracting(CharacterSet(charactersIn: "&=+"))) ?? ""
    }

    static let clearedCookie = "\(cookie)=; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=0"

    private static func age(_ duration: Duration?) -> String {
        guard let duration, duration > .zero else { return "—" }
        let seconds = Double(duration.components.seconds)
        return seconds < 120 ? String(format: "%.0f s", seconds) : String(format: "%.0f min", seconds / 60)
    }
}

/// What an operator asked for that is not there, said on the page.
struct ConsoleProblem: Error {
    let message: String
    init(_ message: String) { self.message = message }
}
