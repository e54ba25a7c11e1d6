import ArgumentParser
import Domain
import PostgresClient
import Queue
import RedisClient
import ReleaseGate
import Settings

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply pending PostgreSQL migrations (safe to run from several processes at once); a breaking one waits "
            + "until no worker of an older build runs.")

    @Flag(help: "Apply a breaking migration even though workers of older builds still run.") var force = false

    func run() async throws {
        let settings = try Environment.settings()
        let pool = PostgresPool(configuration: PostgresConfiguration(url: settings.database, poolSize: 1))
        let applied: [Int]
        let current: Int
        do {
            let migrations = try Schema.migrations()
            let done = Set((try? await Migrator.appliedVersions(pool)) ?? [])  // a fresh database has none
            let pending = migrations.filter { !done.contains($0.version) }
            if !force, pending.contains(where: { $0.breaking != nil }) {
                let redis = RedisPool(configuration: Environment.redisConfiguration(settings, poolSize: 1))
                let jobs = JobQueue(redis: redis)
                let workers = try await jobs.liveWorkers(queues: try await jobs.queues())
                await redis.close()
                if let refusal = BreakingMigrations.refusal(pending: pending, workers: workers) {
                    await pool.close()
                    Environment.fail("migrate: refused:\n\(refusal)\nstop those workers (or --force)", code: 1)
                }
            }
            applied = try await Migrator.migrate(pool, migrations)
            current = try await Migrator.appliedVersions(pool).last ?? 0
            // Rows from before sealing (migration 0017) are sealed now, before any worker reads them.
            if applied.contains(Schema.sealedPersonalData) {
                let sealed = try await DataResealing(database: pool, protection: settings.dataProtection).run()
                print("sealed personal data written before migration \(Schema.sealedPersonalData): \(sealed)")
            }
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
