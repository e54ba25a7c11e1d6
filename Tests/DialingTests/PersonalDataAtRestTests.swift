import CryptoPrimitives
import Domain
import Foundation
import HTTPClient
import LocalServices
import PostgresClient
import Providers
import Queue
import RedisClient
import Testing
import TestSupport

/// Personal data at rest, end to end. A cluster dials (one call answered and recorded, one
/// refused), notifies managers, owner and the owner's address, and then neither Redis (its
/// append-only file: every write since it started, and an RDB snapshot taken with compression
/// off) nor PostgreSQL (`pg_dump`) holds any of the numbers or the visitor's name in clear. And a
/// data key rotated under load, with every process restarted onto the new ring in turn, loses no
/// job and leaves every value opened by the new key alone. Part of the serialized dial suite.
extension DialFlowTests {
    func post(_ cluster: Cluster, key: String, body: String) async throws -> String {
        let response = try await client.send(HTTPClientRequest(method: "POST", url: cluster.api + "/v1/callbacks",
            headers: [("X-Site-Key", key), ("Content-Type", "application/json"), ("X-Forwarded-For", "192.0.2.\(Int.random(in: 1...250))")],
            body: Array(body.utf8)))
        guard response.status == 202, let object = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
              let id = object["id"] as? String else { throw SetupError("intake answered \(response.status): \(response.text)") }
        return id
    }

    /// The shared test Redis's persistence as files: its append-only files and a fresh RDB snapshot.
    func redisDumps() async throws -> [(name: String, bytes: Data)] {
        let redis = try await TestServices.redis(poolSize: 1)
        defer { Task { await redis.close() } }
        let directory = try #require(try await redis.send("CONFIG", "GET", "dir").array?.last?.string)
        let aofDirectory = try #require(try await redis.send("CONFIG", "GET", "appenddirname").array?.last?.string)
        // Uncompressed, so a number inside a long value is there to be found if it is there at all.
        let compression = try await redis.send("CONFIG", "GET", "rdbcompression").array?.last?.string ?? "yes"
        try await redis.send("CONFIG", "SET", "rdbcompression", "no")
        defer { Task { _ = try? await RedisPool(configuration: RedisConfiguration(url: TestServices.redisURL, poolSize: 1)).send("CONFIG", "SET", "rdbcompression", compression) } }
        var dumps: [(String, Data)] = []
        let aofPath = directory + "/" + aofDirectory
        for file in try FileManager.default.contentsOfDirectory(atPath: aofPath) where file.contains(".aof") {
            dumps.append((file, try Data(contentsOf: URL(fileURLWithPath: aofPath + "/" + file))))
        }
        let snapshot = FileManager.default.temporaryDirectory.appendingPathComponent("redial-\(UInt32.random(in: 0...UInt32.max)).rdb")
        defer { try? FileManager.default.removeItem(at: snapshot) }
        let url = TestServices.redisURL
        let saved = try await ChildProcess.run("/usr/bin/redis-cli", ["-h", url.host, "-p", String(url.port), "--rdb", snapshot.path])
        #expect(saved.status == 0, "\(saved.output)")
        dumps.append(("snapshot.rdb", try Data(contentsOf: snapshot)))
        return dumps
    }

    /// A `pg_dump` of the shared test database, as text.
    func postgresDump() async throws -> Data {
        let dumped = try await ChildProcess.run("/usr/bin/pg_dump", ["--no-owner", TestServices.postgresURL.description])
        #expect(dumped.status == 0, "\(dumped.output.prefix(500))")
        return Data(dumped.output.utf8)
    }

    @Test func dumpsOfRedisAndPostgreSQLHoldNoNumberAndNoNameInClear() async throws {
        let store = try await ObjectStore()
        defer { store.stop() }
        let bucket = "at-rest-" + String(UInt32.random(in: 0...UInt32.max))
        let storage = S3ObjectStorage(baseURL: store.url, bucket: bucket, region: "us-east-1", accessKey: "test-key", secretKey: "test-secret")
        try await storage.ensureBucket()
        let mail = try await MailSink()
        defer { mail.stop() }
        let cluster = try await Cluster(workers: 2, smtpURL: mail.url, settings: store.settings(bucket: bucket))
        defer { cluster.stop() }

        let managers = [number(1), number(1)]
        let owner = number(1)
        var new = SiteStore.NewSite(name: TestServices.uniqueName("at-rest"), managers: managers)
        new.ownerPhone = owner
        new.email = "owner@at-rest.test"
        new.balanceMinutes = 100
        new.lowBalanceThresholds = [99]
        new.limits = ["client_numbers_per_hour": 100_000, "client_numbers_per_day": 100_000]
        let (site, key) = try await SiteStore(database: database, protection: .development).create(new)
        let answeredPhone = number(0), refusedPhone = number(7)
        let name = "Zoë Dumpling \(UInt32.random(in: 0...UInt32.max))"
        let answered = try await post(cluster, key: key, body: #"{"phone": "\#(answeredPhone)", "name": "\#(name)"}"#)
        let refused = try await post(cluster, key: key, body: #"{"phone": "\#(refusedPhone)", "name": "\#(name)"}"#)
        try await waitTerminal([answered, refused])
        // Everything that follows a call has happened: the recording stored, and the messages
        // sent (the failed callback: SMS to both managers and an email; the balance crossing 99:
        // SMS to the owner and an email).
        #expect(try await eventually(timeout: .seconds(60)) {
            guard try await recording(answered) != nil else { return false }
            return try await database.query("SELECT count(*)::int AS n FROM deliveries WHERE site_id = $1::uuid",
                                            [site.id])[0].decode("n", as: Int.self) == 5
        })
        let recipients = try await deliveries(site: site.id).map(\.recipient)
        #expect(Set(recipients) == Set(managers + [owner, "owner@at-rest.test"]), "the sealed recipients open to who was sent to")

        let secrets = [answeredPhone, refusedPhone, owner] + managers
        let clear = secrets + secrets.map { String($0.dropFirst()) } + [name, "Dumpling"]
        var dumps = try await redisDumps()
        dumps.append(("pg_dump", try await postgresDump()))
        for (dump, bytes) in dumps {
            for secret in clear {
                #expect(bytes.range(of: Data(secret.utf8)) == nil, "\(dump) holds '\(secret)' in clear")
            }
        }
        // Not an empty look: the dumps hold this run's data, sealed.
        let pg = try #require(dumps.last?.bytes)
        #expect(pg.range(of: Data(answered.utf8)) != nil && pg.range(of: Data("v1.dev.".utf8)) != nil)
        let aof = dumps.filter { $0.name.contains(".aof") }.reduce(Data()) { $0 + $1.bytes }
        #expect(aof.range(of: Data(refused.utf8)) != nil, "the AOF has the refused callback's jobs")
        #expect(aof.range(of: Data(#""sealed":"v1.dev."#.utf8)) != nil, "and sealed notification payloads")
    }
}

extension DialFlowTests {
    @Test func aDataKeyRotatedUnderLoadLosesNoJobAndLeavesNothingUnderTheOldKey() async throws {
        func key() -> String { Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString() }
        let k1 = "r1:" + key(), k2 = "r2:" + key()
        let lookup = Array(DataProtection.developmentLookupKey.utf8)
        let old = try DataProtection(ring: k1, lookupKey: lookup)
        let new = try DataProtection(ring: k2, lookupKey: lookup)
        // A Redis and a database of its own: the reseal rewrites whatever it can open there.
        let redis = try await PrivateRedis()
        let databaseURL = try await TestServices.database("rotation")
        let migrated = try await RedialBinary.run(["migrate"], environment: ["REDIAL_DATABASE_URL": databaseURL, "REDIAL_DATA_KEYS": k1])
        try #require(migrated.status == 0, "\(migrated.output)")
        let database = PostgresPool(configuration: PostgresConfiguration(url: try PostgresURL(parsing: databaseURL), poolSize: 2))
        let cluster = try await Cluster(workers: 2, settings: ["REDIAL_DATA_KEYS": k1, "REDIAL_REDIS_URL": redis.url.description,
                                                            "REDIAL_DATABASE_URL": databaseURL])
        defer {
            cluster.stop()
            redis.stop()
        }
        func state(_ id: String) async throws -> String {
            try await database.query("SELECT status FROM callbacks WHERE id = $1::uuid", [id])[0].decode("status")
        }
        var site = SiteStore.NewSite(name: TestServices.uniqueName("rotation"), managers: [number(1), number(1)])
        site.balanceMinutes = 1000
        site.limits = ["client_numbers_per_hour": 100_000, "client_numbers_per_day": 100_000]
        let (created, siteKey) = try await SiteStore(database: database, protection: old).create(site)

        // Load throughout: a callback every 150 ms, half of them refused (each then texts both
        // managers), while every process moves onto the new ring in three rolling restarts.
        let tally = LoadTally()
        let load = Task { () -> [String] in
            var ids: [String] = []
            while !Task.isCancelled {
                // While the API restarts its port is closed: the widget's visitor tries again.
                if let id = try? await request(cluster, key: siteKey, phone: number(ids.count % 2 == 0 ? 0 : 7)) {
                    ids.append(id)
                    await tally.add()
                }
                try? await Task.sleep(for: .milliseconds(150))  // the load's pace
            }
            return ids
        }
        /// Each phase goes on until the load has had `more` callbacks accepted in it.
        func loadRuns(_ more: Int) async throws {
            let target = await tally.count + more
            #expect(try await eventually(timeout: .seconds(30)) { await tally.count >= target }, "the load goes on")
        }
        try await loadRuns(5)
        try await cluster.roll(settings: ["REDIAL_DATA_KEYS": "\(k1),\(k2)"])  // 1: the new key opens everywhere
        try await cluster.roll(settings: ["REDIAL_DATA_KEYS": "\(k2),\(k1)"])  // 2: and seals
        let resealed = try await RedialBinary.run(["data", "reseal"], environment: cluster.environment)
        #expect(resealed.status == 0 && resealed.output.contains("sealed again under key 'r2'"), "\(resealed.output)")
        try await loadRuns(3)
        // What was written between the reseal and this point still names r1 only if the reseal
        // missed it; a second pass (the nightly job's) finds what the first could not see.
        _ = try await RedialBinary.run(["data", "reseal"], environment: cluster.environment)
        try await cluster.roll(settings: ["REDIAL_DATA_KEYS": k2])  // 3: the old key is gone
        try await loadRuns(5)
        load.cancel()
        let ids = await load.value
        #expect(ids.count >= 20, "load ran throughout: \(ids.count) callbacks")
        #expect(try await eventually(timeout: .seconds(120), every: .milliseconds(200)) {
            for id in ids where try await !["completed", "failed"].contains(state(id)) { return false }
            return true
        }, "every callback ended")

        // No job lost: every callback ended as its number says, and each refused one texted both
        // managers once, every message recorded.
        let refused = ids.enumerated().filter { $0.offset % 2 == 1 }.map(\.element)
        for (index, id) in ids.enumerated() {
            #expect(try await state(id) == (index % 2 == 0 ? "completed" : "failed"), "callback \(index)")
        }
        #expect(try await eventually(timeout: .seconds(60)) {
            try await database.query("SELECT count(*)::int AS n FROM deliveries WHERE site_id = $1::uuid", [created.id])[0]
                .decode("n", as: Int.self) == refused.count * 2
        }, "two SMS per refused callback")
        // Every value of this site's rows opens with the new key alone, and names it.
        let rows = try await database.query("""
            SELECT c.phone, d.recipient FROM callbacks c LEFT JOIN deliveries d ON d.effect_key LIKE '%:' || c.id::text || ':%'
            WHERE c.site_id = $1::uuid
            """, [created.id])
        #expect(rows.count == ids.count + refused.count)
        for row in rows {
            #expect(try new.open(try row.decode("phone"), .callbackPhone).hasPrefix("+7999"))
            if let recipient = try row.decodeIfPresent("recipient", as: String.self) {
                #expect(try new.open(recipient, .deliveryRecipient).hasPrefix("+7999"))
            }
        }
        let managers = try await database.query("SELECT array_to_json(managers)::text AS m FROM sites WHERE id = $1::uuid", [created.id])[0]
        #expect(try JSONText.decode([String].self, try managers.decode("m")).allSatisfy { try new.open($0, .siteManagers).hasPrefix("+7999") })
        // And no job died for want of a key.
        let pool = RedisPool(configuration: RedisConfiguration(url: redis.url, poolSize: 1))
        defer { Task { await pool.close() } }
        for queue in ["callbacks", "notifications"] {
            let dead = try await JobQueue(redis: pool).dead(queue: queue, limit: 1000)
            #expect(!dead.contains { ($0.lastError ?? "").contains("REDIAL_DATA_KEYS") }, "\(queue): a job died unable to open its payload")
        }
    }
}

/// How many callbacks the rotation test's load has had accepted so far.
private actor LoadTally {
    private(set) var count = 0
    func add() { count += 1 }
}
