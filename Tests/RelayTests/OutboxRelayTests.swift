import CryptoPrimitives
import Domain
import Foundation
import LocalServices
import Logging
import PostgresClient
import Queue
import RedisClient
import Relay
import Testing
import TestSupport

/// The transactional outbox against real PostgreSQL (a schema of its own) and a private Redis.
@Suite struct OutboxRelayTests {
    let database: PostgresPool
    let schema: String
    let queue = TestServices.uniqueName("relay")

    init() async throws {
        (database, schema) = try await TestServices.postgres(poolSize: 4)
        try await Migrator.migrate(database, Schema.migrations())
    }

    var policy: JobPolicy { JobPolicy(queue: queue, dedupWindow: .seconds(7 * 86400)) }

    func relay(_ redis: RedisPool) -> OutboxRelay {
        OutboxRelay(database: database, jobs: JobQueue(redis: redis), policies: ["callback.dial": policy],
                    logger: Logger(label: "test"))
    }

    func accept(_ count: Int) async throws -> [String] {
        var new = SiteStore.NewSite(name: "relay", managers: ["+79160000001"])
        new.balanceMinutes = 10
        let site = try await SiteStore(database: database, protection: .development).create(new).site
        var ids: [String] = []
        for index in 0..<count {
            let phone = try PhoneNumber(parsing: "+7916100\(String(format: "%04d", index))")
            guard case .created(let id, _) = try await CallbackStore(database: database, protection: .development).create(siteID: site.id, .init(phone: phone)) else {
                throw SetupError("not created")
            }
            ids.append(id)
        }
        return ids
    }

    func pending() async throws -> Int {
        try await database.query("SELECT count(*) AS n FROM outbox WHERE relayed_at IS NULL")[0].decode("n")
    }

    @Test func aRowOfAnUnknownJobTypeWaitsWithoutBlockingTheOthers() async throws {
        let redis = try await TestServices.redis()
        let ids = try await accept(3)
        // As if written by a newer build during a rolling deploy, before the others.
        try await database.query("UPDATE outbox SET job_type = 'from.the.future' WHERE callback_id = $1::uuid", [ids[0]])
        #expect(try await relay(redis).relayOnce() == 2)
        #expect(try await JobQueue(redis: redis).stats(queue: queue).ready == 2)
        #expect(try await relay(redis).unknownTypes() == ["from.the.future": 1])
        #expect(try await pending() == 1)
    }

    @Test func relaysEachRowIntoOneDialJobEvenWhenRunTwiceAtOnce() async throws {
        let redis = try await TestServices.redis()
        let ids = try await accept(40)
        async let a = relay(redis).relayOnce()
        async let b = relay(redis).relayOnce()
        let moved = try await a + b
        #expect(moved == 40)
        #expect(try await pending() == 0)
        let stats = try await JobQueue(redis: redis).stats(queue: queue)
        #expect(stats.ready == 40)
        // Relaying again (e.g. a crash before the commit) finds the same jobs by dedup key.
        try await database.query("UPDATE outbox SET relayed_at = NULL")
        #expect(try await relay(redis).relayOnce() == 40)
        #expect(try await JobQueue(redis: redis).stats(queue: queue).ready == 40)
        let payload = try await redis.send("HGET", Keys(queue: queue).job(
            try await redis.send("GET", Keys(queue: queue).dedup("callback.dial:\(ids[0])")).string ?? ""), "payload").string
        #expect(payload?.contains(ids[0]) == true)
        await redis.close()
        await database.close()
        try await TestServices.dropSchema(schema)
    }

    @Test func aCommitWakesTheRelayLongBeforeItsNextPoll() async throws {
        let redis = try await TestServices.redis()
        var configuration = database.configuration
        configuration.applicationName = TestServices.uniqueName("relay")
        let pool = PostgresPool(configuration: configuration)
        let relay = OutboxRelay(database: pool, jobs: JobQueue(redis: redis), policies: ["callback.dial": policy], logger: Logger(label: "test"),
                                interval: .seconds(3600))
        let running = Task { try await relay.run() }
        // Both of its loops have settled: the listener has LISTENed, and the poll has made its
        // first pass, found nothing, looked for unknown types (it does so right before it sleeps)
        // and gone to sleep for an hour.
        var seen: [String] = []
        let settled = try await eventually(timeout: .seconds(60)) {
            seen = try await database.query("""
                SELECT state || ': ' || query AS session FROM pg_stat_activity
                WHERE application_name = $1 AND state IS NOT NULL AND query IS NOT NULL
                """, [configuration.applicationName]).map { try $0.decode("session", as: String.self) }
            // Its last query is the unknown-types look, or a pass's COMMIT when rows of another
            // test's schema (the channel is the database's) woke it meanwhile.
            return seen.contains { $0.hasPrefix("idle: LISTEN") }
                && seen.contains { $0.hasPrefix("idle: ") && ($0.contains("NOT job_type = ANY") || $0 == "idle: COMMIT") }
        }
        #expect(settled, "the relay's sessions: \(seen)")
        _ = try await accept(3)
        #expect(try await eventually(timeout: .seconds(30)) { try await pending() == 0 }, "relayed on the commit's notification (the poll sleeps an hour)")
        #expect(try await JobQueue(redis: redis).stats(queue: queue).ready == 3)
        running.cancel()
        _ = await running.result
        await pool.close()
        await redis.close()
        await database.close()
        try await TestServices.dropSchema(schema)
    }

    @Test func withRedisDownRowsWaitAndAreRelayedWhenItReturns() async throws {
        let server = try await PrivateRedis()
        let redis = RedisPool(configuration: RedisConfiguration(url: server.url, connectTimeout: .milliseconds(300)))
        _ = try await accept(5)
        server.stop()
        await #expect(throws: (any Error).self) { try await relay(redis).relayOnce() }
        #expect(try await pending() == 5, "rolled back: nothing lost, nothing marked")
        try await server.start()
        #expect(try await relay(redis).relayOnce() == 5)
        #expect(try await JobQueue(redis: redis).stats(queue: queue).ready == 5)
        await redis.close()
        await database.close()
        try await TestServices.dropSchema(schema)
    }

    @Test func aScheduledCallbackBecomesADelayedJob() async throws {
        let redis = try await TestServices.redis()
        var new = SiteStore.NewSite(name: "relay", managers: ["+79160000001"])
        new.balanceMinutes = 10
        let site = try await SiteStore(database: database, protection: .development).create(new).site
        let created = try await CallbackStore(database: database, protection: .development).create(
            siteID: site.id, .init(phone: try PhoneNumber(parsing: "+79162000000"), callAt: Date().addingTimeInterval(3600)))
        #expect(created == .created(id: { if case .created(let id, _) = created { return id }; return "" }(), status: .scheduled))
        #expect(try await relay(redis).relayOnce() == 1)
        let stats = try await JobQueue(redis: redis).stats(queue: queue)
        #expect(stats.delayed == 1 && stats.ready == 0)
        await redis.close()
        await database.close()
        try await TestServices.dropSchema(schema)
    }
}
