import ArgumentParser
import Domain
import PostgresClient
import Settings

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply pending PostgreSQL migrations (safe to run from several processes at once).")

    func run() async throws {
        let settings = try Environment.settings()
        let pool = PostgresPool(configuration: PostgresConfiguration(url: settings.database, poolSize: 1))
        let applied: [Int]
        let current: Int
        do {
            applied = try await Migrator.migrate(pool, Schema.migrations())
            current = try await Migrator.appliedVersions(pool).last ?? 0
        } catch {
            await pool.close()
            throw error
        }
        await pool.close()
        print(applied.isEmpty
              ? "schema is current (version \(current))"
              : "applied \(applied.map(String.init).joined(separator: ", ")); schema at version \(current)")
    }
}
