import Foundation
import LocalServices
import PostgresClient
import Testing
import TestSupport

/// PostgreSQL over TLS, checked the way `sslmode=verify-full` promises: against a server of the
/// test's own that accepts TLS only, a connection verified against its CA and its name works and
/// is encrypted; a certificate from another CA, a name the certificate does not carry, or no TLS
/// at all is refused, each with libpq's reason.
@Suite struct PostgresTLSTests {
    func connect(_ url: String) async throws -> [PostgresRow] {
        let pool = PostgresPool(configuration: PostgresConfiguration(url: try PostgresURL(parsing: url), poolSize: 1))
        defer { Task { await pool.close() } }
        return try await pool.query("SELECT ssl::text AS ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
    }

    func refusal(_ url: String) async -> String {
        do {
            _ = try await connect(url)
            return "connected"
        } catch {
            return "\(error)"
        }
    }

    @Test func verifyFullConnectsOnlyToTheServerItsCAAndNameVouchFor() async throws {
        let server = try await PrivatePostgres(names: "DNS:localhost")
        defer { server.stop() }
        let verified = try await connect(server.url(query: "sslmode=verify-full&sslrootcert=\(server.caFile)"))
        #expect(try verified.first?.decode("ssl", as: String.self) == "true")
        #expect(try verified.first?.decode("version", as: String.self).hasPrefix("TLSv1.") == true)

        let stranger = await refusal(server.url(query: "sslmode=verify-full&sslrootcert=\(server.strangerCAFile)"))
        #expect(stranger.contains("certificate verify failed"), "\(stranger)")
        let wrongName = await refusal(server.url(host: "127.0.0.1", query: "sslmode=verify-full&sslrootcert=\(server.caFile)"))
        #expect(wrongName.contains("does not match host name"), "\(wrongName)")
        let plain = await refusal(server.url(query: "sslmode=disable"))
        #expect(plain.contains("no encryption"), "\(plain)")
    }

    @Test func theURLsTLSParametersAreCheckedAndPassedOn() throws {
        let url = try PostgresURL(parsing: "postgres://app:pw@db.internal:5432/records?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.crt")
        #expect(url.tls == ["sslmode": "verify-full", "sslrootcert": "/etc/ca.crt"])
        #expect(url.description == "postgres://app:***@db.internal:5432/records?sslmode=verify-full&sslrootcert=/etc/ca.crt")
        for bad in ["postgres://a@h/d?sslmode=maybe", "postgres://a@h/d?options=-c%20x", "postgres://a@h/d?sslmode="] {
            #expect(throws: PostgresError.self, "\(bad)") { try PostgresURL(parsing: bad) }
        }
    }
}
