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
        ("rediss://h1:6379", "scheme"),
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

    @Test func parsesSentinelsTheirMasterAndTheDatabase() throws {
        let url = try RedisURL(parsing: "redis-sentinel://:s3cret@10.0.0.1:26379,10.0.0.2,[::1]:26380/redial/3")
        #expect(url.usesSentinels)
        #expect(url.sentinels == [.init(host: "10.0.0.1", port: 26379), .init(host: "10.0.0.2", port: 26379), .init(host: "::1", port: 26380)])
        #expect(url.masterName == "redial")
        #expect(url.database == 3)
        #expect(url.password == "s3cret")
        #expect(url.description == "redis-sentinel://:***@10.0.0.1:26379,10.0.0.2:26379,[::1]:26380/redial/3")
        let plain = try RedisURL(parsing: "redis-sentinel://127.0.0.1:26380/mymaster")
        #expect(plain.database == 0 && plain.masterName == "mymaster" && plain.sentinels.count == 1)
        #expect(try RedisURL(parsing: "redis://127.0.0.1:6379").usesSentinels == false)
    }

    @Test func parsesClusterSeeds() throws {
        let url = try RedisURL(parsing: "redis-cluster://app:s3cret@10.0.0.1:7000,10.0.0.2,[::1]:7002")
        #expect(url.usesCluster && !url.usesSentinels)
        #expect(url.clusterSeeds == [.init(host: "10.0.0.1", port: 7000), .init(host: "10.0.0.2", port: 6379), .init(host: "::1", port: 7002)])
        #expect(url.username == "app" && url.password == "s3cret" && url.database == 0)
        #expect(url.description == "redis-cluster://app:***@10.0.0.1:7000,10.0.0.2:6379,[::1]:7002")
        #expect(try RedisURL(parsing: "redis-cluster://h1:7000/0").clusterSeeds.count == 1)
        #expect(try RedisURL(parsing: "redis://127.0.0.1:6379").usesCluster == false)
    }

    @Test(arguments: [
        ("redis-cluster://", "host"),
        ("redis-cluster://h1:7000,,h2:7001", "host"),
        ("redis-cluster://h1:70000", "port"),
        ("redis-cluster://h1:7000/1", "database 0 only"),
        ("redis-cluster://h1:7000/0/x", "database 0 only"),
    ])
    func refusesMalformedClusterURLsWithAReason(text: String, mentions: String) {
        #expect {
            try RedisURL(parsing: text)
        } throws: { error in
            guard let error = error as? RedisError, error.code == .invalidURL else { return false }
            return error.message.contains("expected redis-cluster://") && error.message.contains(mentions)
        }
    }

    @Test(arguments: [
        ("redis-sentinel://h1:26379", "master"),
        ("redis-sentinel://h1:26379/", "master"),
        ("redis-sentinel://h1:26379,,h2:26379/m", "host"),
        ("redis-sentinel://h1:0/m", "port"),
        ("redis-sentinel://h1/m/x", "database"),
        ("redis-sentinel://h1/m/1/2", "database"),
        ("redis-sentinel://h1/bad name", "master"),
    ])
    func refusesMalformedSentinelURLsWithAReason(text: String, mentions: String) {
        #expect {
            try RedisURL(parsing: text)
        } throws: { error in
            guard let error = error as? RedisError, error.code == .invalidURL else { return false }
            return error.message.contains("expected redis-sentinel://") && error.message.contains(mentions)
        }
    }
}
