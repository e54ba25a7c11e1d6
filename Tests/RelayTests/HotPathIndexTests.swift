import Domain
import Foundation
import PostgresClient
import Relay
import Testing
import TestSupport

/// Every statement on the callback path reaches its rows through an index: with sequential
/// scans priced out (`enable_seqscan = off`), the planner still finds a plan without one on the
/// tables that grow. A statement that needs a scan would still get one, so the check can fail.
@Suite struct HotPathIndexTests {
    static let growing: Set<String> = ["callbacks", "outbox", "attempts", "deliveries", "effects", "sites"]

    /// Relations read by a sequential scan anywhere in a JSON plan.
    static func scanned(_ plan: Any) -> [String] {
        guard let node = plan as? [String: Any] else { return (plan as? [Any])?.flatMap(scanned) ?? [] }
        var found: [String] = []
        if node["Node Type"] as? String == "Seq Scan", let relation = node["Relation Name"] as? String { found.append(relation) }
        for value in node.values { found += scanned(value) }
        return found
    }

    @Test func theCallbackPathsStatementsUseIndexes() async throws {
        let (database, schema) = try await TestServices.postgres(poolSize: 1)
        defer { Task { await database.close(); try? await TestServices.dropSchema(schema) } }
        try await Migrator.migrate(database, Schema.migrations())
        let statements: [(name: String, sql: String, parameters: [(any PostgresEncodable)?])] = [
            ("site by key", SiteStore.findByKeySQL, [String(repeating: "a", count: 64)]),
            ("the number's active callback", CallbackStore.existingSQL, [UUID().uuidString, "key-1", String(repeating: "b", count: 32)]),
            ("the relay's pass", OutboxRelay.passSQL, [#"["callback.dial"]"#]),
            ("the reconciler's pass", Reconciler.staleSQL, [120.0]),
        ]
        var checked = 0
        try await database.withConnection { connection in
            try await connection.query("SET enable_seqscan = off")
            for statement in statements {
                let rows = try await connection.query("EXPLAIN (FORMAT JSON) " + statement.sql, statement.parameters)
                let plan = try JSONSerialization.jsonObject(with: Data(try rows[0].decode("QUERY PLAN", as: String.self).utf8))
                let scans = Self.scanned(plan).filter(Self.growing.contains)
                #expect(scans.isEmpty, "\(statement.name) scans \(scans)")
                checked += 1
            }
            try await connection.query("RESET enable_seqscan")
        }
        #expect(checked == statements.count)
        // And the check can fail: a statement no index serves is caught.
        try await database.withConnection { connection in
            try await connection.query("SET enable_seqscan = off")
            let rows = try await connection.query("EXPLAIN (FORMAT JSON) SELECT id FROM callbacks WHERE page_url = $1", ["x"])
            let plan = try JSONSerialization.jsonObject(with: Data(try rows[0].decode("QUERY PLAN", as: String.self).utf8))
            #expect(Self.scanned(plan) == ["callbacks"])
            try await connection.query("RESET enable_seqscan")
        }
    }
}
