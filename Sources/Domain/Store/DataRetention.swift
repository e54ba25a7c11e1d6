import PostgresClient

/// A site's callbacks past its data retention (`sites.data_retention_days`), and everything about
/// them: attempts, messages with their effects, outbox rows, recordings. The purge first counts
/// them into `callback_daily` (counts only: no number, no name), so reports over old days still
/// add up; counting and deleting are one transaction, so a replay finds nothing to count twice.
public struct DataRetention: Sendable {
    public let database: PostgresPool

    public init(database: PostgresPool) { self.database = database }

    /// An ended callback past its site's retention, with the object keys of its recordings still
    /// in storage (to delete there before `purge`).
    public struct Expired: Sendable, Equatable {
        public let callbackID: String
        public let storedRecordings: [String]
    }

    static let ended = "('completed', 'failed', 'canceled')"

    /// The oldest expired callbacks, at most `limit`. One still in progress is never expired.
    public func expired(limit: Int) async throws -> [Expired] {
        try await database.query("""
            SELECT c.id::text AS id,
                   coalesce(json_agg(r.object_key) FILTER (WHERE r.object_key IS NOT NULL AND r.deleted_at IS NULL), '[]')::text AS stored
            FROM callbacks c JOIN sites s ON s.id = c.site_id LEFT JOIN recordings r ON r.callback_id = c.id
            WHERE c.created_at < now() - make_interval(days => s.data_retention_days) AND c.status IN \(Self.ended)
            GROUP BY c.id, c.created_at ORDER BY c.created_at LIMIT $1
            """, [limit]).map { Expired(callbackID: try $0.decode("id"), storedRecordings: try JSONText.decode([String].self, $0.decode("stored"))) }
    }

    /// Counts the callbacks into their site's days (in the site's zone) and deletes them with
    /// all that refers to them; returns how many were purged. Ids that are gone (or not ended)
    /// are skipped.
    @discardableResult
    public func purge(_ callbackIDs: [String]) async throws -> Int {
        let ids = try JSONText.encode(callbackIDs.filter(UUIDText.isValid))
        let set = "ARRAY(SELECT jsonb_array_elements_text($1::jsonb))::uuid[]"
        return try await database.transaction { connection in
            // Locked first: nothing changes them between the count and the delete.
            let locked = try await connection.query(
                "SELECT id FROM callbacks WHERE id = ANY(\(set)) AND status IN \(Self.ended) FOR UPDATE", [ids])
            guard !locked.isEmpty else { return 0 }
            try await connection.query("""
                WITH gone AS (
                    SELECT c.site_id, (c.created_at AT TIME ZONE s.timezone)::date AS day, c.status, coalesce(c.minutes_debited, 0) AS minutes,
                           (SELECT count(*) FROM attempts a WHERE a.callback_id = c.id) AS attempts,
                           (SELECT count(*) FROM attempts a WHERE a.callback_id = c.id AND a.outcome = 'answered') AS answered,
                           (SELECT count(*) FROM deliveries d WHERE d.effect_key LIKE '%:' || c.id || ':%') AS messages
                    FROM callbacks c JOIN sites s ON s.id = c.site_id
                    WHERE c.id = ANY(\(set)) AND c.status IN \(Self.ended))
                INSERT INTO callback_daily AS d (site_id, day, accepted, completed, failed, canceled, attempts, answered, minutes_debited, messages)
                SELECT site_id, day, count(*), count(*) FILTER (WHERE status = 'completed'), count(*) FILTER (WHERE status = 'failed'),
                       count(*) FILTER (WHERE status = 'canceled'), sum(attempts), sum(answered), sum(minutes), sum(messages)
                FROM gone GROUP BY site_id, day
                ON CONFLICT (site_id, day) DO UPDATE SET
                    accepted = d.accepted + excluded.accepted, completed = d.completed + excluded.completed,
                    failed = d.failed + excluded.failed, canceled = d.canceled + excluded.canceled,
                    attempts = d.attempts + excluded.attempts, answered = d.answered + excluded.answered,
                    minutes_debited = d.minutes_debited + excluded.minutes_debited, messages = d.messages + excluded.messages
                """, [ids])
            // Messages and effects name the callback inside their keys (`sms:<message>:<callback>:<to>`,
            // `callback:<id>:attempt:<n>`, `debit:<id>`, `recording:<id>:<n>`).
            try await connection.query("""
                DELETE FROM deliveries d USING unnest(\(set)) AS g(id) WHERE d.effect_key LIKE '%:' || g.id || ':%'
                """, [ids])
            try await connection.query("""
                DELETE FROM effects e USING unnest(\(set)) AS g(id) WHERE e.effect_key LIKE '%' || g.id || '%'
                  AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.effect_key = e.effect_key)
                """, [ids])
            for table in ["attempts", "outbox", "recordings"] {
                try await connection.query("DELETE FROM \(table) WHERE callback_id = ANY(\(set))", [ids])
            }
            return try await connection.query("DELETE FROM callbacks WHERE id = ANY(\(set)) AND status IN \(Self.ended) RETURNING id", [ids]).count
        }
    }
}
