import Foundation
import PostgresClient

/// The effect ledger (docs/design.md, "Idempotency"): one row per external effect under a key derived
/// from the job. `begin` before acting, `complete` after; a replay that finds `done` skips, one
/// that finds `pending` reconciles by acting again with the same key as the provider's
/// idempotency key (which never repeats the effect). The `on:` forms run inside a caller's
/// transaction, so an effect can be recorded together with the state change it belongs to.
public struct EffectLedger: Sendable {
    public let database: PostgresPool

    public init(database: PostgresPool) { self.database = database }

    public enum State: Sendable, Equatable {
        /// Not done yet (first run, or a replay that must reconcile).
        case pending
        /// Done before; the result recorded then (a JSON object).
        case done(result: [String: String])
    }

    public func begin(_ key: String) async throws -> State {
        try await database.withConnection { try await Self.begin(key, on: $0) }
    }

    public func complete(_ key: String, result: [String: String]) async throws {
        try await database.withConnection { try await Self.complete(key, result: result, on: $0) }
    }

    public static func begin(_ key: String, on connection: PostgresConnection) async throws -> State {
        try await connection.query("INSERT INTO effects (effect_key, state) VALUES ($1, 'pending') ON CONFLICT DO NOTHING", [key])
        let row = try await connection.query("SELECT state, result::text AS result FROM effects WHERE effect_key = $1", [key])[0]
        guard try row.decode("state", as: String.self) == "done" else { return .pending }
        let text = try row.decodeIfPresent("result", as: String.self) ?? "{}"
        return .done(result: (try? JSONDecoder().decode([String: String].self, from: Data(text.utf8))) ?? [:])
    }

    public static func complete(_ key: String, result: [String: String], on connection: PostgresConnection) async throws {
        try await connection.query("UPDATE effects SET state = 'done', result = $2::jsonb, completed_at = now() WHERE effect_key = $1",
                                   [key, try JSONText.encode(result)])
    }

    /// Records an effect as done in one step; false when it was recorded before, and the effect
    /// must not be applied again (a debit).
    public static func recordOnce(_ key: String, result: [String: String], on connection: PostgresConnection) async throws -> Bool {
        !(try await connection.query("""
            INSERT INTO effects (effect_key, state, result, completed_at) VALUES ($1, 'done', $2::jsonb, now())
            ON CONFLICT DO NOTHING RETURNING effect_key
            """, [key, try JSONText.encode(result)])).isEmpty
    }
}
