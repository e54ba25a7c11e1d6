import RedisClient
import Testing

@Suite struct RedisURLTests {
    @Test func parsesHostPortPasswordAndDatabase() throws {
        let url = try RedisURL(parsing: "redis://:s3cret@cache.local:6380/2")
        #expect(url.host == "cache.local")
        #expect(url.port == 6380)
        #expect(url.password == "s3cret")
        #expect(url.username == nil)
        #expect(url.database == 2)
        #expect(url.description == "redis://:***@cache.local:6380/2")
    }

    @Test func defaultsPortAndDatabase() throws {
        let url = try RedisURL(parsing: "redis://localhost")
        #expect(url.port == 6379)
        #expect(url.database == 0)
    }

    @Test func parsesUsernameAndPercentEncodedPassword() throws {
        let url = try RedisURL(parsing: "redis://app:p%40ss@127.0.0.1:6379")
        #expect(url.username == "app")
        #expect(url.password == "p@ss")
    }

    @Test(arguments: [
        ("http://localhost:6379", "scheme"),
        ("redis://", "host"),
        ("redis://host:99999", "port"),
        ("redis://host:abc", "port"),
        ("redis://host/x", "database"),
    ])
    func refusesMalformedURLsWithAReason(text: String, mentions: String) {
        #expect {
            try RedisURL(parsing: text)
        } throws: { error in
            guard let error = error as? RedisError, error.code == .invalidURL else { return false }
            return error.message.contains("expected redis://") && error.message.contains(mentions)
        }
    }

    @Test func malformedURLErrorsDoNotLeakThePassword() {
        #expect {
            try RedisURL(parsing: "redis://:hunter2@host:notaport")
        } throws: { error in
            "\(error)".contains("hunter2") == false
        }
    }
}
