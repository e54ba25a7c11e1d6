import Foundation
import LocalServices
import PostgresClient
import Testing
import TestSupport

@Suite struct PostgresConnectionTests {
    @Test func parameterisedQueriesDecodeTypedRows() async throws {
        let (pool, schema) = try await TestServices.postgres()
        try await pool.query("CREATE TABLE t (id bigint PRIMARY KEY, name text, score double precision, ok boolean)")
        try await pool.query("INSERT INTO t VALUES ($1, $2, $3, $4), ($5, $6, $7, $8)",
                             [Int64(1), "Ann", 1.5, true, Int64(2), nil, nil, false])
        let rows = try await pool.query("SELECT * FROM t ORDER BY id")
        #expect(rows.count == 2)
        #expect(try rows[0].decode("id", as: Int64.self) == 1)
        #expect(try rows[0].decode("name", as: String.self) == "Ann")
        #expect(try rows[0].decode("score", as: Double.self) == 1.5)
        #expect(try rows[0].decode("ok", as: Bool.self) == true)
        #expect(try rows[1].decodeIfPresent("name", as: String.self) == nil)
        #expect(throws: PostgresError.self) { try rows[1].decode("name", as: String.self) }
        #expect(throws: PostgresError.self) { try rows[0].decode("name", as: Int.self) }
        #expect(throws: PostgresError.self) { try rows[0].decode("missing", as: Int.self) }
        await pool.close()
        try await TestServices.dropSchema(schema)
    }

    @Test func hostileTextStaysData() async throws {
        let (pool, schema) = try await TestServices.postgres()
        try await pool.query("CREATE TABLE notes (body text)")
        let hostile = "'); DROP TABLE notes; -- ☎️ \u{0301}"
        try await pool.query("INSERT INTO notes VALUES ($1)", [hostile])
        let rows = try await pool.query("SELECT body FROM notes")
        #expect(try rows.map { try $0.decode("body", as: String.self) } == [hostile])
        await pool.close()
        try await TestServices.dropSchema(schema)
    }

    @Test func aUniqueViolationIsItsOwnErrorNamingTheConstraint() async throws {
        let (pool, schema) = try await TestServices.postgres()
        try await pool.query("CREATE TABLE effects (key text CONSTRAINT effects_key UNIQUE)")
        try await pool.query("INSERT INTO effects VALUES ($1)", ["callback:1:attempt:1"])
        await #expect {
            try await pool.query("INSERT INTO effects VALUES ($1)", ["callback:1:attempt:1"])
        } throws: { error in
            guard let error = error as? PostgresError else { return false }
            return error.code == .uniqueViolation && error.sqlState == "23505" && error.constraint == "effects_key"
        }
        await pool.close()
        try await TestServices.dropSchema(schema)
    }

    @Test func otherServerErrorsCarryTheirSQLState() async throws {
        let (pool, schema) = try await TestServices.postgres()
        await #expect {
            try await pool.query("SELECT * FROM no_such_table")
        } throws: { error in
            guard let error = error as? PostgresError else { return false }
            return error.code == .server && error.sqlState == "42P01"
        }
        await pool.close()
        try await TestServices.dropSchema(schema)
    }

    @Test func aFailedTransactionLeavesNothingBehindAndTheConnectionUsable() async throws {
        let (pool, schema) = try await TestServices.postgres(poolSize: 1)
        try await pool.query("CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL)")
        try await pool.query("INSERT INTO accounts VALUES (1, 100)")
        await #expect(throws: PostgresError.self) {
            try await pool.transaction { connection in
                try await connection.query("UPDATE accounts SET balance = balance - 30 WHERE id = 1")
                try await connection.query("INSERT INTO accounts VALUES (1, 5)")  // duplicate key
            }
        }
        // Same (only) connection: not stuck in 25P02, and the debit was rolled back.
        let balance = try await pool.query("SELECT balance FROM accounts WHERE id = 1")[0].decode("balance", as: Int.self)
        #expect(balance == 100)
        let committed = try await pool.transaction { connection in
            try await connection.query("UPDATE accounts SET balance = balance - 30 WHERE id = 1 RETURNING balance")[0]
                .decode("balance", as: Int.self)
        }
        #expect(committed == 70)
        await pool.close()
        try await TestServices.dropSchema(schema)
    }

    @Test func serverDownIsATypedError() async throws {
        let port = try LocalHost.freePort()
        let pool = PostgresPool(configuration: PostgresConfiguration(
            url: PostgresURL(host: "127.0.0.1", port: port, user: "redial", database: "redial")))
        await #expect {
            try await pool.query("SELECT 1")
        } throws: { error in
            guard let error = error as? PostgresError else { return false }
            return error.code == .connectionFailed && error.message.contains("\(port)")
        }
        await pool.close()
    }

    @Test func reconnectsAfterTheServerEndsTheSession() async throws {
        let (pool, schema) = try await TestServices.postgres(poolSize: 1)
        let pid = try await pool.query("SELECT pg_backend_pid() AS pid")[0].decode("pid", as: Int.self)
        let (admin, adminSchema) = try await TestServices.postgres(poolSize: 1)
        try await admin.query("SELECT pg_terminate_backend($1)", [pid])
        // Wait until the server has really closed it, as after a restart.
        _ = try await eventually {
            try await admin.query("SELECT 1 FROM pg_stat_activity WHERE pid = $1", [pid]).isEmpty
        }
        let newPid = try await pool.query("SELECT pg_backend_pid() AS pid")[0].decode("pid", as: Int.self)
        #expect(newPid != pid)
        await pool.close()
        await admin.close()
        try await TestServices.dropSchema(schema)
        try await TestServices.dropSchema(adminSchema)
    }

    @Test func aStatementOverTheTimeoutIsCancelledByTheServer() async throws {
        let url = TestServices.postgresURL
        let pool = PostgresPool(configuration: PostgresConfiguration(url: url, statementTimeout: .milliseconds(200)))
        await #expect {
            try await pool.query("SELECT pg_sleep(5)")
        } throws: { error in
            (error as? PostgresError)?.sqlState == "57014"
        }
        #expect(try await pool.query("SELECT 1 AS one")[0].decode("one", as: Int.self) == 1)
        await pool.close()
    }

    @Test func aCallerWaitsForAPooledConnectionOnlyUpToTheAcquireTimeout() async throws {
        let pool = PostgresPool(configuration: PostgresConfiguration(url: TestServices.postgresURL, acquireTimeout: .milliseconds(300),
                                                                     poolSize: 1))
        // The pool's one connection is busy (as one stuck on a server that stopped answering would be).
        // Marked, so the wait counts this query running, not another test's (or an idle session's last).
        // It runs until the test cancels it: however slow the machine, it is still running when the
        // second caller comes (a 3 s one had ended by then on a loaded CI run).
        let marked = "SELECT pg_sleep(600) -- \(TestServices.uniqueName("busy"))"
        let busy = Task { try await pool.query(marked) }
        #expect(try await eventually(timeout: .seconds(30)) { try await Self.running(marked) > 0 })
        await #expect {
            try await pool.query("SELECT 1")
        } throws: { error in
            guard let error = error as? PostgresError else { return false }
            return error.code == .poolExhausted && error.message.contains("all 1 are busy or stuck")
        }
        let admin = PostgresPool(configuration: PostgresConfiguration(url: TestServices.postgresURL, poolSize: 1))
        try await admin.query("SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query = $1", [marked])
        await admin.close()
        _ = try? await busy.value  // cancelled by the server
        // Free again: the next caller is served, and nothing is left waiting.
        #expect(try await pool.query("SELECT 1 AS one")[0].decode("one", as: Int.self) == 1)
        await pool.close()
    }

    @Test func aServerThatStopsAnsweringFailsTheStatementAndTheConnectionIsReplaced() async throws {
        let pool = PostgresPool(configuration: PostgresConfiguration(url: TestServices.postgresURL, statementTimeout: .milliseconds(300),
                                                                     poolSize: 1))
        let pid = Int32(try await pool.query("SELECT pg_backend_pid() AS pid")[0].decode("pid", as: Int.self))
        // The backend process is frozen: its socket stays open and the kernel acknowledges every
        // byte, so neither TCP nor the server's own timeout will ever say anything.
        kill(pid, SIGSTOP)
        // The statement against a 20 s bound of the test's own; whatever happens, the backend
        // is thawed before the group ends.
        let error: PostgresError?? = await withTaskGroup(of: PostgresError??.self) { group in
            group.addTask {
                do {
                    _ = try await pool.query("SELECT 1")
                    return .some(nil)
                } catch {
                    return .some(error as? PostgresError)
                }
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(20))
                return nil
            }
            let first = await group.next() ?? nil
            kill(pid, SIGCONT)
            group.cancelAll()
            return first
        }
        #expect(error != nil, "the statement waited on a server that does not answer")
        #expect(error??.code == .connectionLost, "\(String(describing: error))")
        let next = Int32(try await pool.query("SELECT pg_backend_pid() AS pid")[0].decode("pid", as: Int.self))
        #expect(next != pid, "the given-up connection was replaced")
        await pool.close()
    }

    /// Sessions running `query` now.
    static func running(_ query: String) async throws -> Int {
        let admin = PostgresPool(configuration: PostgresConfiguration(url: TestServices.postgresURL, poolSize: 1))
        defer { Task { await admin.close() } }
        return try await admin.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE state = 'active' AND query = $1", [query])[0].decode("n")
    }
}
