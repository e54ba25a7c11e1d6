import Foundation
import LocalServices
import PostgresClient
import RedisClient

/// The shared servers `make test` starts. A test that cannot reach one fails with a message
/// saying how to start it; it never skips.
public enum TestServices {
    public static var redisURL: RedisURL {
        let text = ProcessInfo.processInfo.environment["REDIAL_REDIS_URL"] ?? "redis://127.0.0.1:16379/0"
        do { return try RedisURL(parsing: text) } catch { fatalError("REDIAL_REDIS_URL for tests: \(error)") }
    }

    public static var postgresURL: PostgresURL {
        let text = ProcessInfo.processInfo.environment["REDIAL_DATABASE_URL"] ?? "postgres://redial@127.0.0.1:15432/redial"
        do { return try PostgresURL(parsing: text) } catch { fatalError("REDIAL_DATABASE_URL for tests: \(error)") }
    }

    /// A name no other test (or run) uses: tests share servers and must not share keys or schemas.
    /// What a production process needs on top of valid local settings: a real-looking webhook
    /// secret (32 bytes), provider URLs that are not the sandbox, object-storage credentials.
    public static let productionSettings = [
        "REDIAL_ENV": "production", "REDIAL_TELEPHONY_SECRET": String(repeating: "k", count: 32),
        "REDIAL_TELEPHONY_URL": "https://api.carrier.example", "REDIAL_SMS_URL": "https://sms.carrier.example",
        "REDIAL_S3_KEY": "AKIAEXAMPLE", "REDIAL_S3_SECRET": "real-secret", "REDIAL_LOOKUP_KEY": String(repeating: "l", count: 32),
        "REDIAL_DATA_KEYS": "k1:" + Data(repeating: 7, count: 32).base64EncodedString(),
    ]

    public static func uniqueName(_ prefix: String) -> String {
        "\(prefix)_\(UInt32.random(in: .min ... .max))_\(UInt32.random(in: .min ... .max))"
    }

    /// A connection to the shared Redis, checked to answer.
    public static func redis(poolSize: Int = 4) async throws -> RedisPool {
        let pool = RedisPool(configuration: RedisConfiguration(url: redisURL, poolSize: poolSize))
        do {
            try await pool.send("PING")
        } catch {
            throw SetupError("Redis at \(redisURL) is not reachable (run `make services`): \(error)")
        }
        return pool
    }

    /// A pool on the shared PostgreSQL whose `search_path` starts at a fresh, empty schema.
    public static func postgres(poolSize: Int = 2) async throws -> (pool: PostgresPool, schema: String) {
        let schema = uniqueName("test")
        let admin = PostgresPool(configuration: PostgresConfiguration(url: postgresURL, poolSize: 1))
        do {
            try await admin.query("CREATE SCHEMA \(PostgresConnection.quoteIdentifier(schema))")
        } catch {
            await admin.close()
            throw SetupError("PostgreSQL at \(postgresURL) is not reachable (run `make services`): \(error)")
        }
        await admin.close()
        let pool = PostgresPool(configuration: PostgresConfiguration(url: postgresURL, poolSize: poolSize, schema: schema))
        return (pool, schema)
    }

    /// A database of its own on the shared PostgreSQL, made afresh once per test run: for tests
    /// whose `redial` processes must not share rows with other suites' clusters (a cluster's
    /// relay takes every outbox row it can see, whatever site it belongs to). Returns its URL as
    /// text, password included, for `REDIAL_DATABASE_URL`.
    public static func database(_ name: String) async throws -> String {
        try await isolatedDatabases.value(name)
    }

    private static let isolatedDatabases = IsolatedDatabases()

    /// Drops a schema made by `postgres()`.
    public static func dropSchema(_ schema: String) async throws {
        let admin = PostgresPool(configuration: PostgresConfiguration(url: postgresURL, poolSize: 1))
        try await admin.query("DROP SCHEMA IF EXISTS \(PostgresConnection.quoteIdentifier(schema)) CASCADE")
        await admin.close()
    }
}

/// Creates each named database once per process, the first time a test asks for it. The
/// creation is kept as a task, so a second caller arriving meanwhile waits for it rather than
/// dropping the database under the first.
private actor IsolatedDatabases {
    private var made: [String: Task<String, any Error>] = [:]

    func value(_ name: String) async throws -> String {
        if let made = made[name] { return try await made.value }
        let creation = Task { try await Self.create("redial_test_\(name)") }
        made[name] = creation
        return try await creation.value
    }

    private static func create(_ database: String) async throws -> String {
        let admin = PostgresPool(configuration: PostgresConfiguration(url: TestServices.postgresURL, poolSize: 1))
        do {
            // FORCE: a run that was killed may have left connections open to it.
            try await admin.query("DROP DATABASE IF EXISTS \(PostgresConnection.quoteIdentifier(database)) WITH (FORCE)")
            try await admin.query("CREATE DATABASE \(PostgresConnection.quoteIdentifier(database))")
        } catch {
            await admin.close()
            throw SetupError("PostgreSQL at \(TestServices.postgresURL) cannot make database \(database) (run `make services`): \(error)")
        }
        await admin.close()
        let url = TestServices.postgresURL
        let password = url.password.map { ":\($0)" } ?? ""  // PostgresURL takes it as written
        return "postgres://\(url.user)\(password)@\(url.host):\(url.port)/\(database)"
    }
}
