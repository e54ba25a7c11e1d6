import PostgresClient
import Testing

@Suite struct PostgresURLTests {
    @Test func parsesEveryPart() throws {
        let url = try PostgresURL(parsing: "postgres://app:pw@db.local:6543/records")
        #expect(url == PostgresURL(host: "db.local", port: 6543, user: "app", password: "pw", database: "records"))
        #expect(url.description == "postgres://app:***@db.local:6543/records")
    }

    @Test func acceptsThePostgresqlSchemeAndDefaultsThePort() throws {
        let url = try PostgresURL(parsing: "postgresql://app@localhost/records")
        #expect(url.port == 5432)
        #expect(url.password == nil)
    }

    @Test(arguments: ["mysql://a@b/c", "postgres://host/db", "postgres://a@host", "postgres://a@host:0/db",
                      "postgres://a@:5432/db", "postgres://a@host:x/db"])
    func refusesMalformedURLs(text: String) {
        #expect {
            try PostgresURL(parsing: text)
        } throws: { error in
            guard let error = error as? PostgresError else { return false }
            return error.code == .invalidURL && error.message.contains("expected postgres://")
        }
    }

    @Test func errorsDoNotLeakThePassword() {
        #expect {
            try PostgresURL(parsing: "postgres://app:hunter2@host:bad/db")
        } throws: { error in
            !"\(error)".contains("hunter2")
        }
    }
}
