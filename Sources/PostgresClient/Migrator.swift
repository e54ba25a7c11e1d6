import Foundation

/// One schema change: a numbered `.sql` file, applied once, in order.
public struct Migration: Sendable, Hashable {
    public let version: Int
    public let name: String
    public let sql: String
    /// Why a build that predates this migration cannot run beside it (it drops or renames what
    /// such a build uses), from a `-- breaking: <why>` line; nil for an additive migration.
    public let breaking: String?

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
        breaking = sql.split(separator: "\n").first { $0.hasPrefix("-- breaking:") }
            .map { $0.dropFirst("-- breaking:".count).trimmingCharacters(in: .whitespaces) }
    }

    /// Reads `NNNN_name.sql` files; a file whose name does not fit is refused by name.
    public static func parse(files: [(name: String, contents: String)]) throws(PostgresError) -> [Migration] {
        var migrations: [Migration] = []
        for file in files {
            guard file.name.hasSuffix(".sql"), let underscore = file.name.firstIndex(of: "_"),
                  let version = Int(file.name[..<underscore]), version > 0 else {
                throw PostgresError(.server, "migration file '\(file.name)': expected NNNN_name.sql with NNNN > 0")
            }
            let name = String(file.name[file.name.index(after: underscore)...].dropLast(4))
            migrations.append(Migration(version: version, name: name, sql: file.contents))
        }
        let sorted = migrations.sorted { $0.version < $1.version }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.version == b.version {
            throw PostgresError(.server, "migrations '\(a.name)' and '\(b.name)' share version \(a.version)")
        }
        return sorted
    }
}

/// Applies pending migrations, each in its own transaction together with its row in
/// `schema_migrations`, so a migration is either wholly applied and recorded or not at all.
/// A transaction-scoped advisory lock lets several processes migrate at once safely.
public enum Migrator {
    /// Key of the advisory lock serialising migrators (any constant; "redial" in ASCII).
    static let lockKey: Int64 = 0x7265_6469_616c

    /// Returns the versions applied by this call (empty when the schema was current).
    @discardableResult
    public static func migrate(_ pool: PostgresPool, _ migrations: [Migration]) async throws -> [Int] {
        try await pool.transaction { connection in
            // Under the lock: concurrent CREATE TABLE IF NOT EXISTS can still collide.
            try await connection.query("SELECT pg_advisory_xact_lock($1)", [lockKey])
            try await connection.query("""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version integer PRIMARY KEY,
                    name text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now())
                """)
        }
        var applied: [Int] = []
        for migration in migrations {
            let ran = try await pool.transaction { connection in
                try await connection.query("SELECT pg_advisory_xact_lock($1)", [lockKey])
                let done = try await connection.query(
                    "SELECT 1 FROM schema_migrations WHERE version = $1", [migration.version])
                guard done.isEmpty else { return false }
                try await connection.executeScript(migration.sql)
                try await connection.query(
                    "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", [migration.version, migration.name])
                return true
            }
            if ran { applied.append(migration.version) }
        }
        return applied
    }

    /// Versions already applied, ascending.
    public static func appliedVersions(_ pool: PostgresPool) async throws -> [Int] {
        try await pool.query("SELECT version FROM schema_migrations ORDER BY version").map { try $0.decode("version") }
    }
}
