import Domain
import Foundation
import LocalServices
import PostgresClient
import Testing
import TestSupport

@Suite struct MigratorTests {
    let migrations = [
        Migration(version: 1, name: "a", sql: "CREATE TABLE a (id int)"),
        Migration(version: 2, name: "b", sql: "CREATE TABLE b (id int); CREATE INDEX b_id ON b (id);"),
    ]

    @Test func appliesPendingMigrationsOnceInOrder() async throws {
        let (pool, schema) = try await TestServices.postgres()
        #expect(try await Migrator.migrate(pool, Array(migrations.prefix(1))) == [1])
        #expect(try await Migrator.migrate(pool, migrations) == [2])
        #expect(try await Migrator.migrate(pool, migrations) == [])
        #expect(try await Migrator.appliedVersions(pool) == [1, 2])
        await pool.close()
        try await TestServices.dropSchema(schema)
    }

    @Test func aFailingMigrationIsNotRecordedAndLeavesNothing() async throws {
        let (pool, schema) = try await TestServices.postgres()
        let broken = Migration(version: 3, name: "broken", sql: "CREATE TABLE c (id int); SELECT * FROM nope")
        await #expect(throws: PostgresError.self) { try await Migrator.migrate(pool, migrations + [broken]) }
        #expect(try await Migrator.appliedVersions(pool) == [1, 2])
        let tables = try await pool.query(
            "SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'c'", [schema])
        #expect(tables.isEmpty)
        await pool.close()
        try await TestServices.dropSchema(schema)
    }

    @Test func concurrentMigratorsApplyEachMigrationOnce() async throws {
        let (pool, schema) = try await TestServices.postgres(poolSize: 1)
        try await pool.query("CREATE TABLE runs (n int)")
        let counted = [Migration(version: 1, name: "count", sql: "INSERT INTO runs VALUES (1)")]
        let pools = (0..<3).map { _ in
            PostgresPool(configuration: PostgresConfiguration(url: TestServices.postgresURL, poolSize: 1, schema: schema))
        }
        let applied = try await withThrowingTaskGroup(of: [Int].self) { group in
            for p in pools { group.addTask { try await Migrator.migrate(p, counted) } }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(applied == [1])
        #expect(try await pool.query("SELECT count(*) AS n FROM runs")[0].decode("n", as: Int.self) == 1)
        for p in pools { await p.close() }
        await pool.close()
        try await TestServices.dropSchema(schema)
    }

    @Test func migrationFileNamesAreChecked() throws {
        #expect(throws: PostgresError.self) { try Migration.parse(files: [("create.sql", "")]) }
        #expect(throws: PostgresError.self) { try Migration.parse(files: [("0001_a.sql", ""), ("1_b.sql", "")]) }
        #expect(try Migration.parse(files: [("0002_b.sql", "B"), ("0001_a.sql", "A")]).map(\.name) == ["a", "b"])
    }

    @Test func theShippedSchemaListsEveryMigrationFileAndApplies() async throws {
        let directory = LocalHost.repositoryRoot.appendingPathComponent("Sources/Domain/Migrations")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".sql") }
        let shipped = try Schema.migrations()
        #expect(shipped.count == files.count, "every .sql file in Sources/Domain/Migrations must be listed in Schema.swift")
        for migration in shipped {
            let file = String(format: "%04d_%@.sql", migration.version, migration.name)
            #expect(try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8) == migration.sql)
        }
        let (pool, schema) = try await TestServices.postgres()
        #expect(try await Migrator.migrate(pool, shipped) == shipped.map(\.version))
        await pool.close()
        try await TestServices.dropSchema(schema)
    }
}
