import PostgresClient
import Queue
import ReleaseGate
import Testing

/// A breaking migration waits for the workers of older builds; an additive one does not.
@Suite struct BreakingMigrationsTests {
    let additive = Migration(version: 12, name: "add_column", sql: "ALTER TABLE sites ADD COLUMN x text;")
    let breaking = Migration(version: 13, name: "drop_phone", sql: """
        -- Numbers move to an encrypted column.
        -- breaking: builds before 0013 read callbacks.phone
        ALTER TABLE callbacks DROP COLUMN phone;
        """)

    func worker(schema: Int?, version: String = "0.13.0") -> WorkerRelease {
        var release = WorkerRelease(version: version, build: "b\(schema ?? 0)", scripts: "s")
        release.schema = schema
        return release
    }

    @Test func theMarkerIsReadFromTheFile() throws {
        #expect(additive.breaking == nil)
        #expect(breaking.breaking == "builds before 0013 read callbacks.phone")
        let parsed = try Migration.parse(files: [("0013_drop_phone.sql", breaking.sql)])
        #expect(parsed.first?.breaking == "builds before 0013 read callbacks.phone")
    }

    @Test func aBreakingMigrationNamesTheOlderWorkersInItsWay() {
        let workers: [String: WorkerRelease?] = ["old-1": worker(schema: 12), "new-1": worker(schema: 13, version: "0.14.0"), "ancient": nil]
        let refusal = BreakingMigrations.refusal(pending: [additive, breaking], workers: workers)
        #expect(refusal == "migration 0013_drop_phone is breaking (builds before 0013 read callbacks.phone); workers of older builds still run: "
                + "ancient (announces no release), old-1 (0.13.0, build b12, schema 12)")
    }

    @Test func nothingStandsInTheWayOfAdditiveMigrationsOrOfNewerWorkers() {
        #expect(BreakingMigrations.refusal(pending: [additive], workers: ["old-1": worker(schema: 1)]) == nil)
        #expect(BreakingMigrations.refusal(pending: [breaking], workers: ["new-1": worker(schema: 13), "newer": worker(schema: 20)]) == nil)
        #expect(BreakingMigrations.refusal(pending: [breaking], workers: [:]) == nil)
    }
}
