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
                SELECT version, state, extract(epoch FROM started_at)::float8 AS started, extract(epoch FROM now() - started_at)::float8 AS elapsed,
                       window_seconds, baseline::text AS baseline
                FROM releases WHERE (version = $1 OR ($1 IS NULL AND state = 'soaking'))
                """, [version])
            guard let row = rows.first else {
                throw ReleaseError.notFound(version.map { "no release \($0)" } ?? "no release is soaking (redial release start VERSION)")
            }
            let started: Double = try row.decode("started")
            let baseline = (try? JSONDecoder().decode([String: [String: Int]].self, from: Data(try row.decode("baseline", as: String.self).utf8))) ?? [:]
            let metrics = try await measure(since: started, baseline: baseline)
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
                try await connection.query("UPDATE releases SET state = 'promoted', ended_at = now(), build_path = $2 WHERE version = $1", [version, binary])
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
    /// back to production; the share applies only while a release soaks); beta's workers finish
    /// what their queues hold.
    public func rollback(version: String, actor: String, reason: String?) async throws(ReleaseError) {
        do {
            let changed = try await database.transaction { connection in
                let rows = try await connection.query("""
                    UPDATE releases SET state = 'rolled_back', ended_at = now() WHERE version = $1 AND state = 'soaking' RETURNING version
                    """, [version])
                guard !rows.isEmpty else { return false }
                try await connection.query("UPDATE sites SET channel = 'production' WHERE channel = 'beta'")
                try await connection.query("INSERT INTO release_events (version, action, actor, reason) VALUES ($1, 'rollback', $2, $3)",
                                           [version, actor, reason])
                return true
            }
            if !changed { throw ReleaseError.refused(["release \(version) is not soaking"]) }
        } catch let error as ReleaseError {
            throw error
        } catch {
            throw .unavailable("\(error)")
        }
    }

    /// The newest promoted release that names a build, for `redial up` to move its workers to.
    public func promotedBinary() async throws -> (version: String, binary: String)? {
        let rows = try await database.query("""
            SELECT version, build_path FROM releases WHERE state = 'promoted' AND build_path IS NOT NULL ORDER BY ended_at DESC LIMIT 1
            """)
        guard let row = rows.first else { return nil }
        return (try row.decode("version"), try row.decode("build_path"))
    }

    /// The metrics over the soak so far: Redis counters' deltas per channel, attempts from PostgreSQL.
    /// Crash recoveries get a wide slack: a loaded machine's late heartbeats are recovered too
    /// (a CI run saw 3 % on a sound beta), and a crashing build shows far more.
    private func measure(since started: Double, baseline: [String: [String: Int]]) async throws -> [GateMetric] {
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
        return [
            .lowerIsBetter("job failure rate", production: side(.production, "failed", over: ["completed", "failed"]),
                           beta: side(.beta, "failed", over: ["completed", "failed"]), minimum: 100, factor: 1.5, slack: 0.02),
            .lowerIsBetter("dead jobs", production: side(.production, "dead", over: ["completed", "dead"]),
                           beta: side(.beta, "dead", over: ["completed", "dead"]), minimum: 100, factor: 1.5, slack: 0.005),
            .lowerIsBetter("crash recoveries", production: side(.production, "recovered", over: ["started"]),
                           beta: side(.beta, "recovered", over: ["started"]), minimum: 100, factor: 2, slack: 0.05),
            .higherIsBetter("dial success rate (answered ÷ ended attempts)", production: attempts["production"] ?? (0, 0),
                            beta: attempts["beta"] ?? (0, 0), minimum: 30, slack: 0.05),
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
