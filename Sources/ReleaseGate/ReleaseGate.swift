import Foundation
import PostgresClient
import Queue

/// The release path's gate (`redial release …`): a beta release soaks against production over a
/// window; it may be promoted only when the window has passed and beta is no worse than
/// production by any metric, each with enough samples. History in `releases` and
/// `release_events`.
public struct ReleaseGate: Sendable {
    let database: PostgresPool
    let jobs: JobQueue

    public init(database: PostgresPool, jobs: JobQueue) {
        self.database = database
        self.jobs = jobs
    }

    /// Registers a beta release and snapshots every queue's counters (both channels), so the gate
    /// compares what happens from now on.
    public func start(version: String, window: Duration, actor: String) async throws(ReleaseError) {
        guard (1...64).contains(version.count), version.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || ".-+_".contains($0)) }) else {
            throw .invalid("version: expected 1-64 of A-Z a-z 0-9 . - + _, got '\(version.prefix(80))'")
        }
        do {
            var baseline: [String: [String: Int]] = [:]
            for queue in try await jobs.queues() { baseline[queue] = try await jobs.counters(queue: queue) }
            let soaking = try await database.query("SELECT version FROM releases WHERE state = 'soaking'")
            if let other = soaking.first { throw ReleaseError.refused(["release \(try other.decode("version", as: String.self)) is soaking: promote or roll it back first"]) }
            if try await !database.query("SELECT 1 FROM releases WHERE version = $1", [version]).isEmpty {
                throw ReleaseError.refused(["release \(version) was started before; a release is started once"])
            }
            try await database.transaction { connection in
                try await connection.query("INSERT INTO releases (version, window_seconds, baseline) VALUES ($1, $2, $3::jsonb)",
                                           [version, window.seconds, try JSONText.encode(baseline)])
                try await connection.query("INSERT INTO release_events (version, action, actor) VALUES ($1, 'start', $2)", [version, actor])
            }
        } catch let error as ReleaseError {
            throw error
        } catch let error as PostgresError where error.code == .uniqueViolation {
            throw .refused(["another release started at the same moment"])
        } catch {
            throw .unavailable("\(error)")
        }
    }

    /// The soaking release, or `version`'s, compared metric by metric.
    public func report(version: String? = nil) async throws(ReleaseError) -> GateReport {
        do {
            let rows = try await database.query("""
                SELECT version, state, extract(epoch FROM started_at)::float8 AS started,
                       extract(epoch FROM coalesce(ended_at, now()) - started_at)::float8 AS elapsed,
                       window_seconds, baseline::text AS baseline, final_metrics::text AS final_metrics, alert_looks
                FROM releases WHERE (version = $1 OR ($1 IS NULL AND state = 'soaking'))
                """, [version])
            guard let row = rows.first else {
                throw ReleaseError.notFound(version.map { "no release \($0)" } ?? "no release is soaking (redial release start VERSION)")
            }
            let started: Double = try row.decode("started")
            // An ended release reads as it stood when it ended.
            let metrics: [GateMetric]
            if let final = try row.decodeIfPresent("final_metrics", as: String.self) {
                metrics = try JSONText.decode([GateMetric].self, final)
            } else {
                let baseline = try JSONText.decode([String: [String: Int]].self, try row.decode("baseline", as: String.self))
                metrics = try await measure(version: try row.decode("version"), since: started, baseline: baseline,
                                            alertLooks: try row.decode("alert_looks"))
            }
            return GateReport(version: try row.decode("version"), state: try row.decode("state"), startedAt: Date(timeIntervalSince1970: started),
                              elapsedSeconds: try row.decode("elapsed"), windowSeconds: try row.decode("window_seconds"), metrics: metrics)
        } catch let error as ReleaseError {
            throw error
        } catch {
            throw .unavailable("\(error)")
        }
    }

    /// Promotes `version` when the gate lets it through, or with `force` (recorded with who and
    /// why); a refusal is recorded too, with every reason, and thrown.
    /// - Parameter binary: the build production's workers move to (`redial up` moves them one at
    ///   a time); nil: the operator deploys it.
    public func promote(version: String, actor: String, force: Bool, reason: String?, binary: String? = nil) async throws(ReleaseError) -> GateReport {
        let report = try await report(version: version)
        guard report.state == "soaking" else { throw .refused(["release \(version) is \(report.state), not soaking"]) }
        if force && (reason ?? "").trimmingCharacters(in: .whitespaces).isEmpty {
            throw .invalid("--force needs --reason: a forced promotion is recorded with who and why")
        }
        do {
            let verdict = try JSONText.encode(report)
            if !report.promotable && !force {
                try await database.query("""
                    INSERT INTO release_events (version, action, actor, reason, verdict) VALUES ($1, 'refused', $2, $3, $4::jsonb)
                    """, [version, actor, report.reasons.joined(separator: "; "), verdict])
                throw ReleaseError.refused(report.reasons)
            }
            try await database.transaction { connection in
                try await connection.query("""
                    UPDATE releases SET state = 'promoted', ended_at = now(), build_path = $2, final_metrics = $3::jsonb WHERE version = $1
                    """, [version, binary, try JSONText.encode(report.metrics)])
                try await connection.query("""
                    INSERT INTO release_events (version, action, actor, forced, reason, verdict) VALUES ($1, 'promote', $2, $3, $4, $5::jsonb)
                    """, [version, actor, !report.promotable, reason, verdict])
            }
            return report
        } catch let error as ReleaseError {
            throw error
        } catch {
            throw .unavailable("\(error)")
        }
    }

    /// Ends `version`'s soak as rolled back: no new callback goes to beta (sites marked beta go
    /// back to production, and so do callbacks not yet ended; the share applies only while a
    /// release soaks); what waits on beta's queues moves to production's (`sendBetaHome`), and
    /// beta's workers finish only what they hold.
    public func rollback(version: String, actor: String, reason: String?) async throws(ReleaseError) {
        let report = try await report(version: version)
        do {
            let metrics = try JSONText.encode(report.metrics)
            let changed = try await database.transaction { connection in
                let rows = try await connection.query("""
                    UPDATE releases SET state = 'rolled_back', ended_at = now(), final_metrics = $2::jsonb
                    WHERE version = $1 AND state = 'soaking' RETURNING version
                    """, [version, metrics])
                guard !rows.isEmpty else { return false }
                try await connection.query("UPDATE sites SET channel = 'production' WHERE channel = 'beta'")
                try await connection.query("""
                    UPDATE callbacks SET channel = 'production' WHERE channel = 'beta' AND status NOT IN ('completed', 'failed', 'canceled')
                    """)
                try await connection.query("INSERT INTO release_events (version, action, actor, reason) VALUES ($1, 'rollback', $2, $3)",
                                           [version, actor, reason])
                return true
            }
            if !changed { throw ReleaseError.refused(["release \(version) is not soaking"]) }
            _ = try await sendBetaHome()
        } catch let error as ReleaseError {
            throw error
        } catch {
            throw .unavailable("\(error)")
        }
    }

    /// While no release soaks and no site is on beta, nothing should run on beta: whatever waits
    /// on beta's queues (left by a rollback, or a follow-up of a job a beta worker still held)
    /// moves to production's. The watchdog calls this at every look; returns how many moved.
    public func sendBetaHome() async throws -> Int {
        let busy = try await database.query("""
            SELECT 1 FROM releases WHERE state = 'soaking' UNION ALL SELECT 1 FROM sites WHERE channel = 'beta' LIMIT 1
            """)
        guard busy.isEmpty else { return 0 }
        var moved = 0
        for queue in try await jobs.queues() where WorkerRelease.Channel(queue: queue) == .beta {
            moved += try await jobs.moveWaiting(from: queue, to: WorkerRelease.Channel.base(of: queue))
        }
        return moved
    }

    /// The newest promoted release that names a build, for `redial up` to move its workers to.
    public func promotedBinary() async throws -> (version: String, binary: String)? {
        let rows = try await database.query("""
            SELECT version, build_path FROM releases WHERE state = 'promoted' AND build_path IS NOT NULL ORDER BY ended_at DESC LIMIT 1
            """)
        guard let row = rows.first else { return nil }
        return (try row.decode("version"), try row.decode("build_path"))
    }

    /// Notes the alerts the watchdog sees firing in Alertmanager while `version` soaks, each put
    /// down to the channel its labels name (alerts naming neither are nobody's), and that it
    /// looked: the alerts metric says nothing until someone has.
    public func noteAlerts(version: String, _ alerts: [(fingerprint: String, name: String, channel: WorkerRelease.Channel)]) async throws(ReleaseError) {
        do {
            try await record(alerts, of: version)
        } catch {
            throw .unavailable("\(error)")
        }
    }

    private func record(_ alerts: [(fingerprint: String, name: String, channel: WorkerRelease.Channel)], of version: String) async throws {
        try await database.transaction { connection in
            let soaking = try await connection.query(
                "UPDATE releases SET alert_looks = alert_looks + 1 WHERE version = $1 AND state = 'soaking' RETURNING version", [version])
            guard !soaking.isEmpty else { return }
            for alert in alerts {
                try await connection.query("""
                    INSERT INTO release_alerts (version, fingerprint, name, channel) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING
                    """, [version, alert.fingerprint, alert.name, alert.channel.rawValue])
            }
        }
    }

    /// The metrics over the soak so far: Redis counters' deltas per channel (outcomes, run
    /// times), attempts, deliveries and alerts from PostgreSQL.
    /// Crash recoveries get a wide slack: a loaded machine's late heartbeats are recovered too
    /// (a CI run saw 3 % on a sound beta), and a crashing build shows far more.
    private func measure(version: String, since started: Double, baseline: [String: [String: Int]], alertLooks: Int) async throws -> [GateMetric] {
        var totals: [WorkerRelease.Channel: [String: Int]] = [:]
        for queue in try await jobs.queues() {
            let now = try await jobs.counters(queue: queue)
            let before = baseline[queue] ?? [:]
            let channel = WorkerRelease.Channel(queue: queue)
            for (name, value) in now { totals[channel, default: [:]][name, default: 0] += value - (before[name] ?? 0) }
        }
        func side(_ channel: WorkerRelease.Channel, _ events: String, over samples: [String]) -> (Int, Int) {
            let counts = totals[channel] ?? [:]
            return (counts[events] ?? 0, samples.reduce(0) { $0 + (counts[$1] ?? 0) })
        }
        let dials = try await database.query("""
            SELECT c.channel, count(*) FILTER (WHERE a.outcome = 'answered')::int AS answered, count(*)::int AS ended
            FROM attempts a JOIN callbacks c ON c.id = a.callback_id
            WHERE a.ended_at >= to_timestamp($1) GROUP BY c.channel
            """, [started])
        var attempts: [String: (Int, Int)] = [:]
        for row in dials { attempts[try row.decode("channel")] = (try row.decode("answered"), try row.decode("ended")) }
        // A message counts once its fate is known: an SMS delivered or not, an email accepted by
        // the relay (all it reports).
        let messages = try await database.query("""
            SELECT release_channel AS channel,
                   count(*) FILTER (WHERE status = 'delivered' OR (channel = 'email' AND status = 'sent'))::int AS delivered,
                   count(*) FILTER (WHERE status <> 'sent' OR channel = 'email')::int AS settled
            FROM deliveries WHERE sent_at >= to_timestamp($1) GROUP BY release_channel
            """, [started])
        var deliveries: [String: (Int, Int)] = [:]
        for row in messages { deliveries[try row.decode("channel")] = (try row.decode("delivered"), try row.decode("settled")) }
        let alerts = try await database.query(
            "SELECT channel, count(*)::int AS n FROM release_alerts WHERE version = $1 GROUP BY channel", [version])
        var alerted: [String: Int] = [:]
        for row in alerts { alerted[try row.decode("channel")] = try row.decode("n") }
        func runTimes(_ channel: WorkerRelease.Channel) -> [String: (seconds: Double?, samples: Int)] {
            RunTimeHistogram.runs(in: totals[channel] ?? [:]).mapValues { RunTimeHistogram.quantile(0.99, of: $0) }
        }
        return [
            .lowerIsBetter("job failure rate", production: side(.production, "failed", over: ["completed", "failed"]),
                           beta: side(.beta, "failed", over: ["completed", "failed"]), minimum: 100, factor: 1.5, slack: 0.02),
            .lowerIsBetter("dead jobs", production: side(.production, "dead", over: ["completed", "dead"]),
                           beta: side(.beta, "dead", over: ["completed", "dead"]), minimum: 100, factor: 1.5, slack: 0.005),
            .lowerIsBetter("crash recoveries", production: side(.production, "recovered", over: ["started"]),
                           beta: side(.beta, "recovered", over: ["started"]), minimum: 100, factor: 2, slack: 0.05),
            .higherIsBetter("dial success rate (answered ÷ ended attempts)", production: attempts["production"] ?? (0, 0),
                            beta: attempts["beta"] ?? (0, 0), minimum: 30, slack: 0.05),
            .higherIsBetter("notification delivery (delivered ÷ settled messages)", production: deliveries["production"] ?? (0, 0),
                            beta: deliveries["beta"] ?? (0, 0), minimum: 30, slack: 0.05, mayBeAbsent: true),
            // A p99 needs about ten runs above it to be more than noise: 1000 runs of a type a
            // side. Run times stretch with a process's load as well as with its build (a CI run's
            // sound beta, one worker to production's two, read 1.6 × production): beta fails at
            // twice. By type: over the mix, a sound beta whose calls were answered more often
            // (more recording uploads, seconds each) read 2.4 × production in a CI run.
            .shorterIsBetterByType("p99 job run time", production: runTimes(.production), beta: runTimes(.beta), minimum: 1000,
                                   factor: 2, slack: .milliseconds(250)),
            .noMoreThanProduction("watchdog alerts attributed to the channel", production: alerted["production"] ?? 0,
                                  beta: alerted["beta"] ?? 0, looks: alertLooks, minimum: 1),
        ]
    }
}

/// Why a release command did not do what it was asked; reads well in a log line and on a terminal.
public enum ReleaseError: Error, Sendable, CustomStringConvertible {
    case invalid(String)
    case notFound(String)
    /// The gate (or the release's state) refuses, with every reason.
    case refused([String])
    case unavailable(String)

    public var description: String {
        switch self {
        case .invalid(let text), .notFound(let text): text
        case .refused(let reasons): "refused:\n" + reasons.map { "  - \($0)" }.joined(separator: "\n")
        case .unavailable(let text): "PostgreSQL or Redis unavailable: \(text)"
        }
    }
}
