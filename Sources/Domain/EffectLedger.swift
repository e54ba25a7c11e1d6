import PostgresClient

/// The effect ledger (DESIGN.md, "Idempotency"): one row per external effect under a key derived
/// from the job. `begin` before acting, `complete` after; a replay that finds `done` skips, one
/// that finds `pending` reconciles by acting again with the same key as the provider's
/// idempotency key (which never repeats the effect).
public struct EffectLedger: Sendable {
    public let database: PostgresPool

    public init(database: PostgresPool) { self.database = database }

    public enum State: Sendable, Equatable {
        /// Not done yet (first run, or a replay that must reconcile).
        case pending
        /// Done before; the result recorded then.
        case done(result: String?)
    }

    public func begin(_ key: String) async throws -> State {
        try await database.query("INSERT INTO effects (effect_key, state) VALUES ($1, 'pending') ON CONFLICT DO NOTHING", [key])
        let row = try await database.query("SELECT state, result::text AS result FROM effects WHERE effect_key = $1", [key])[0]
        return try row.decode("state", as: String.self) == "done" ? .done(result: try row.decodeIfPresent("result")) : .pending
    }

    /// `resultJSON`: a JSON object describing what happened (ids from the provider).
    public func complete(_ key: String, resultJSON: String) async throws {
        try await database.query("UPDATE effects SET state = 'done', result = $2::jsonb, completed_at = now() WHERE effect_key = $1",
                                 [key, resultJSON])
    }
}
