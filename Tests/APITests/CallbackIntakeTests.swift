import CryptoPrimitives
import Domain
import Foundation
import HTTPClient
import LocalServices
import PostgresClient
import RedisClient
import Testing
import TestSupport

/// Black-box tests of `POST/GET /v1/callbacks` against a real `redial serve`, PostgreSQL and Redis.
@Suite(.serialized) struct CallbackIntakeTests {
    let api: APIProcess
    let database: PostgresPool
    let client = HTTPClient()
    /// The test's own Redis: the abuse limits per number count across every site, so on the
    /// shared one a number used by an earlier run (or suite) would still be counted.
    let redis: PrivateRedis

    /// The suite's own database: on the shared one, a cluster of another suite running at the
    /// same time relays and dials these callbacks, and they are no longer as the API left them.
    let databaseURL: String

    init() async throws {
        databaseURL = try await TestServices.database("intake")
        database = PostgresPool(configuration: PostgresConfiguration(url: try PostgresURL(parsing: databaseURL), poolSize: 2))
        try await Migrator.migrate(database, Schema.migrations())
        redis = try await PrivateRedis()
        api = try await APIProcess(environment: ["REDIAL_DATABASE_URL": databaseURL, "REDIAL_REDIS_URL": redis.url.description])
    }

    func site(balance: Int = 100, configure: (inout SiteStore.NewSite) -> Void = { _ in }) async throws -> String {
        var new = SiteStore.NewSite(name: TestServices.uniqueName("site"), managers: ["+79160000001"])
        new.balanceMinutes = balance
        new.defaultCountryCode = "7"
        configure(&new)
        return try await SiteStore(database: database, protection: .development).create(new).key
    }

    func post(_ key: String?, _ body: String, contentType: String? = "application/json",
              headers: [(String, String)] = []) async throws -> HTTPClientResponse {
        var all = headers
        if let key { all.append(("X-Site-Key", key)) }
        if let contentType { all.append(("Content-Type", contentType)) }
        return try await client.send(HTTPClientRequest(method: "POST", url: api.base + "/v1/callbacks", headers: all, body: Array(body.utf8)))
    }

    func error(_ response: HTTPClientResponse) throws -> (code: String, field: String?) {
        let object = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
        let error = object?["error"] as? [String: Any]
        return (error?["code"] as? String ?? "", error?["field"] as? String)
    }

    func id(_ response: HTTPClientResponse) throws -> String {
        let object = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
        return object?["id"] as? String ?? ""
    }

    @Test func acceptsAValidRequestAndWritesTheCallbackAndItsOutboxRow() async throws {
        let key = try await site()
        let response = try await post(key, #"{"phone": "8 (916) 123-45-67", "name": "Анна", "page_url": "https://shop.example/x"}"#)
        #expect(response.status == 202)
        let callback = try id(response)
        let rows = try await database.query("""
            SELECT c.phone, c.name, c.status, o.job_type FROM callbacks c JOIN outbox o ON o.callback_id = c.id WHERE c.id = $1::uuid
            """, [callback])
        #expect(rows.count == 1)
        // Sealed at rest: the stored values open to what was asked, and are not it.
        let phone: String = try rows[0].decode("phone")
        let name: String = try rows[0].decode("name")
        #expect(phone.hasPrefix("v1.dev.") && !phone.contains("9161234567") && name.hasPrefix("v1.dev."))
        #expect(try DataProtection.development.open(phone, .callbackPhone) == "+79161234567")
        #expect(try DataProtection.development.open(name, .callbackName) == "Анна")
        #expect(try rows[0].decode("job_type", as: String.self) == "callback.dial")

        let shown = try await client.send(HTTPClientRequest(url: api.base + "/v1/callbacks/\(callback)", headers: [("X-Site-Key", key)]))
        #expect(shown.status == 200)
        let object = try JSONSerialization.jsonObject(with: Data(shown.body)) as? [String: Any]
        #expect(object?["status"] as? String == "queued")
        #expect((object?["attempts"] as? [Any])?.isEmpty == true)
    }

    @Test func everyErrorStatusWithItsBody() async throws {
        let key = try await site()
        let broke = try await site(balance: 0)
        let cases: [(HTTPClientResponse, Int, String, String?)] = [
            (try await post(nil, #"{"phone": "+79161234567"}"#), 401, "missing_site_key", nil),
            (try await post("sk_unknown", #"{"phone": "+79161234567"}"#), 401, "unknown_site_key", nil),
            (try await post(key, "{\"phone\": \"" + String(repeating: "1", count: 17_000) + "\"}"), 413, "body_too_large", nil),
            (try await post(key, #"{"phone": "+79161234567"}"#, contentType: "text/plain"), 415, "unsupported_media_type", nil),
            (try await post(key, #"{"phone": "+79161234567"}"#, contentType: nil), 415, "unsupported_media_type", nil),
            (try await post(key, #"{"phone": "+7916"#), 400, "malformed_json", nil),
            (try await post(key, "[1, 2]"), 400, "malformed_json", nil),
            (try await post(key, #"{"name": "no phone"}"#), 400, "invalid_phone", "phone"),
            (try await post(key, #"{"phone": 79161234567}"#), 400, "invalid_phone", "phone"),
            (try await post(key, #"{"phone": "+7 916"}"#), 400, "invalid_phone", "phone"),
            (try await post(key, #"{"phone": "+79161234567", "call_at": "tomorrow"}"#), 400, "invalid_request", "call_at"),
            (try await post(key, #"{"phone": "+79161234567", "page_url": "javascript:alert(1)"}"#), 400, "invalid_request", "page_url"),
            (try await post(key, #"{"phone": "+88212345678"}"#), 400, "number_not_allowed", "phone"),
            (try await post(broke, #"{"phone": "+79161234567"}"#), 402, "no_balance", nil),
        ]
        for (response, status, code, field) in cases {
            #expect(response.status == status, "\(code): \(response.text)")
            #expect(response.header("content-type")?.hasPrefix("application/json") == true)
            let (got, gotField) = try error(response)
            #expect(got == code, "\(response.text)")
            #expect(gotField == field)
        }
        let unknown = try await client.send(HTTPClientRequest(url: api.base + "/v1/callbacks/00000000-0000-0000-0000-000000000000",
                                                        headers: [("X-Site-Key", key)]))
        #expect(unknown.status == 404)
        #expect(try error(unknown).code == "not_found")
    }

    @Test func aMalformedRequestIsNeverAnswered429() async throws {
        let key = try await site { $0.limits = ["site_per_minute": 1] }
        #expect(try await post(key, #"{"phone": "+79161112233"}"#).status == 202)
        #expect(try await post(key, #"{"phone": "+79161112244"}"#).status == 429)
        // The limit is exhausted, yet a malformed request is told what is wrong with it.
        #expect(try await post(key, #"{"phone": "nope"}"#).status == 400)
        #expect(try await post(key, "{", contentType: "application/json").status == 400)
        #expect(try await post(key, "{}", contentType: "text/html").status == 415)
    }

    @Test func idempotencyKeyReplaysAndOneActiveCallbackPerPhone() async throws {
        let key = try await site()
        let first = try await post(key, #"{"phone": "+79162223344"}"#, headers: [("Idempotency-Key", "abc-1")])
        let replay = try await post(key, #"{"phone": "+79162223344"}"#, headers: [("Idempotency-Key", "abc-1")])
        let samePhone = try await post(key, #"{"phone": "8 916 222 33 44"}"#)
        #expect(first.status == 202)
        #expect(replay.status == 200 && samePhone.status == 200)
        #expect(try id(replay) == id(first) && id(samePhone) == id(first))
        let count = try await database.query("""
            SELECT count(*) AS n FROM callbacks
            WHERE site_id = (SELECT site_id FROM callbacks WHERE id = $1::uuid) AND phone_lookup = $2
            """, [try id(first), DataProtection.development.lookup("+79162223344")])[0].decode("n", as: Int.self)
        #expect(count == 1)
    }

    @Test func concurrentIdenticalRequestsMakeOneCallback() async throws {
        let key = try await site()
        let responses = try await withThrowingTaskGroup(of: HTTPClientResponse.self) { group in
            for _ in 0..<8 { group.addTask { try await post(key, #"{"phone": "+79163334455"}"#) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(responses.filter { $0.status == 202 }.count == 1)
        #expect(responses.filter { $0.status == 200 }.count == 7)
        #expect(Set(try responses.map(id)).count == 1)
    }

    @Test func perNumberLimitAnswers429WithRetryAfter() async throws {
        let key = try await site { $0.limits = ["number_per_15_minutes": 2] }
        for index in 0..<2 {
            let response = try await post(key, #"{"phone": "+79164445566"}"#, headers: [("Idempotency-Key", "n\(index)")])
            #expect(response.status == 202)
            // Cancel it, so the next request is a new callback and not a same-phone replay.
            try await database.query("UPDATE callbacks SET status = 'canceled' WHERE id = $1::uuid", [try id(response)])
        }
        let refused = try await post(key, #"{"phone": "+79164445566"}"#, headers: [("Idempotency-Key", "n3")])
        #expect(refused.status == 429)
        #expect(try error(refused).code == "rate_limited")
        let retryAfter = Int(refused.header("retry-after") ?? "") ?? 0
        #expect(retryAfter > 0 && retryAfter <= 900)
    }

    @Test func perClientDistinctNumbersKeyOnForwardedForOnlyFromTrustedProxies() async throws {
        let key = try await site { $0.limits = ["client_numbers_per_hour": 2] }
        // The test's peer is 127.0.0.1, a trusted proxy by default: X-Forwarded-For names the client.
        let a = [("X-Forwarded-For", "203.0.113.7")]
        let b = [("X-Forwarded-For", "203.0.113.8")]
        #expect(try await post(key, #"{"phone": "+79165550001"}"#, headers: a).status == 202)
        #expect(try await post(key, #"{"phone": "+79165550002"}"#, headers: a).status == 202)
        #expect(try await post(key, #"{"phone": "+79165550003"}"#, headers: a).status == 429)
        #expect(try await post(key, #"{"phone": "+79165550003"}"#, headers: b).status == 202, "another client")
    }

    @Test func anUntrustedPeerCannotChooseItsOwnClientAddress() async throws {
        let strict = try await APIProcess(environment: ["REDIAL_TRUSTED_PROXIES": "10.9.9.9", "REDIAL_DATABASE_URL": databaseURL,
                                                        "REDIAL_REDIS_URL": redis.url.description])
        defer { strict.stop() }
        let key = try await site { $0.limits = ["client_numbers_per_hour": 1] }
        func send(_ phone: String, _ forwarded: String) async throws -> Int {
            try await client.send(HTTPClientRequest(method: "POST", url: strict.base + "/v1/callbacks",
                                              headers: [("X-Site-Key", key), ("Content-Type", "application/json"), ("X-Forwarded-For", forwarded)],
                                              body: Array(#"{"phone": "\#(phone)"}"#.utf8))).status
        }
        #expect(try await send("+79166660001", "198.51.100.1") == 202)
        #expect(try await send("+79166660002", "198.51.100.2") == 429, "the header is ignored: same peer, same client")
    }

    @Test func servedCountriesAndNationalFormats() async throws {
        let key = try await site { $0.servedCountryCodes = ["7"] }
        #expect(try await post(key, #"{"phone": "+4915112345678"}"#).status == 400)
        #expect(try error(try await post(key, #"{"phone": "+4915112345678"}"#)).code == "number_not_served")
        #expect(try await post(key, #"{"phone": "8 (916) 777-88-99"}"#).status == 202)
    }

    @Test(arguments: [
        #"{"phone": "+79161234567', DROP TABLE callbacks; --"}"#,
        #"{"phone": "+7916\u0000123"}"#,
        #"{"phone": "99999999999999999999999999999999"}"#,
        #"{"phone": "+79161234567", "name": "\u0007bell"}"#,
        #"{"phone": ["+79161234567"]}"#,
        #"{"phone": "+79161234567", "name": 12}"#,
        #"{"phone": "١٢٣٤٥٦٧٨٩٠"}"#,
        #"null"#,
        #"{"phone": "+79161234567", "call_at": "2999-01-01T00:00:00Z"}"#,
    ])
    func hostileInputsGetAClear400(body: String) async throws {
        let key = try await site()
        let response = try await post(key, body)
        #expect(response.status == 400, "\(body) → \(response.status) \(response.text)")
        #expect(try !error(response).code.isEmpty)
    }

    @Test func healthReadinessMetricsWidgetAndDemo() async throws {
        #expect(try await client.send(HTTPClientRequest(url: api.base + "/healthz")).status == 200)
        let ready = try await client.send(HTTPClientRequest(url: api.base + "/readyz"))
        #expect(ready.status == 200)
        #expect(ready.text.contains(#""redis":"ok""#) && ready.text.contains(#""postgres":"ok""#))
        let metrics = try await client.send(HTTPClientRequest(url: api.base + "/metrics"))
        #expect(metrics.status == 200)
        #expect(metrics.text.contains("hb_requests"))
        #expect(metrics.text.contains("http_server_request_duration"))
        let widget = try await client.send(HTTPClientRequest(url: api.base + "/widget.js"))
        #expect(widget.status == 200 && widget.header("content-type")?.contains("javascript") == true)
        let demo = try await client.send(HTTPClientRequest(url: api.base + "/demo"))
        #expect(demo.status == 200 && demo.text.contains("/widget.js"))
        let preflight = try await client.send(HTTPClientRequest(method: "OPTIONS", url: api.base + "/v1/callbacks",
                                                          headers: [("Origin", "https://shop.example"), ("Access-Control-Request-Method", "POST")]))
        #expect(preflight.header("access-control-allow-origin") == "*")
        #expect(preflight.header("access-control-allow-headers")?.lowercased().contains("x-site-key") == true)
    }

    @Test func aNewSiteCallsOnlyItsOwnCountryUnlessToldOtherwise() async throws {
        let home = try await site()  // default country 7, nothing said about others
        #expect(try error(try await post(home, #"{"phone": "+4915112345001"}"#)).code == "number_not_served")
        #expect(try await post(home, #"{"phone": "+79165550201"}"#).status == 202)
        let abroad = try await site { $0.servedCountryCodes = [] }  // told: every country not denied
        #expect(try await post(abroad, #"{"phone": "+4915112345002"}"#).status == 202)
    }

    @Test func aSiteThatListsItsOriginsRefusesRequestsFromAnyOther() async throws {
        let key = try await site { $0.allowedOrigins = ["https://Shop.example/"] }
        #expect(try await post(key, #"{"phone": "+79165550301"}"#, headers: [("Origin", "https://shop.example")]).status == 202)
        let forged = try await post(key, #"{"phone": "+79165550302"}"#, headers: [("Origin", "https://evil.example")])
        #expect(forged.status == 403)
        #expect(try error(forged).code == "origin_not_allowed")
        #expect(forged.header("access-control-allow-origin") == "*", "an error answer still carries CORS, so the widget can read it")
        // Any error of a widget request (it always sends an Origin) keeps its status and JSON.
        let malformed = try await post(key, "{", headers: [("Origin", "https://shop.example")])
        #expect(malformed.status == 400 && (try? error(malformed).code) == "malformed_json")
        #expect(try await post(key, #"{"phone": "+79165550303"}"#).status == 403, "a script without an Origin is refused too")
        await #expect(throws: DomainError.self) {
            try await SiteStore(database: database, protection: .development).create({ () -> SiteStore.NewSite in
                var new = SiteStore.NewSite(name: "bad origin", managers: ["+79160000001"])
                new.allowedOrigins = ["javascript:alert(1)"]
                return new
            }())
        }
    }

    @Test func metricsAndReadinessDetailsCanLiveOnAPortOfTheirOwn() async throws {
        let operations = try LocalHost.freePort()
        let split = try await APIProcess(environment: ["REDIAL_DATABASE_URL": databaseURL, "REDIAL_REDIS_URL": redis.url.description,
                                                       "REDIAL_METRICS_PORT": String(operations)])
        defer { split.stop() }
        #expect(try await client.send(HTTPClientRequest(url: split.base + "/metrics")).status == 404, "not on the public port")
        let publicReady = try await client.send(HTTPClientRequest(url: split.base + "/readyz"))
        #expect(publicReady.status == 200 && publicReady.text == #"{"status":"ready"}"#, "\(publicReady.text)")
        let ops = "http://127.0.0.1:\(operations)"
        let metrics = try await client.send(HTTPClientRequest(url: ops + "/metrics"))
        #expect(metrics.status == 200 && metrics.text.contains("hb_requests"))
        let ready = try await client.send(HTTPClientRequest(url: ops + "/readyz"))
        #expect(ready.text.contains(#""redis":"ok""#) && ready.text.contains(#""postgres":"ok""#))
    }

    @Test func readinessFailsWhenADependencyIsDown() async throws {
        let port = try LocalHost.freePort()
        let broken = try await APIProcess(environment: ["REDIAL_REDIS_URL": "redis://127.0.0.1:\(port)/0",
                                                     "REDIAL_DATABASE_URL": databaseURL])
        defer { broken.stop() }
        let ready = try await client.send(HTTPClientRequest(url: broken.base + "/readyz"))
        #expect(ready.status == 503)
        #expect(ready.text.contains(#""postgres":"ok""#))
        // Intake still accepts while Redis is down: the limits are counted in PostgreSQL instead,
        // which records the callback. They still hold there.
        let key = try await site { $0.limits = ["number_per_15_minutes": 2] }
        func send(_ idempotencyKey: String) async throws -> HTTPClientResponse {
            try await client.send(HTTPClientRequest(method: "POST", url: broken.base + "/v1/callbacks",
                                                    headers: [("X-Site-Key", key), ("Content-Type", "application/json"),
                                                              ("Idempotency-Key", idempotencyKey), ("X-Forwarded-For", "192.0.2.77")],
                                                    body: Array(#"{"phone": "+79167778801"}"#.utf8)))
        }
        for index in 0..<2 {
            let accepted = try await send("down-\(index)")
            #expect(accepted.status == 202)
            try await database.query("UPDATE callbacks SET status = 'canceled' WHERE id = $1::uuid", [try id(accepted)])
        }
        let refused = try await send("down-2")
        #expect(refused.status == 429, "\(refused.text)")
        #expect(try error(refused).code == "rate_limited")
    }

    @Test func withNeitherRedisNorPostgreSQLIntakeRefusesRatherThanGuess() async throws {
        // A site key and a replay are looked up in PostgreSQL first, so PostgreSQL must answer
        // those and then fail: a callbacks table without the column the limits count by.
        let bare = try await TestServices.database("intake-bare")
        let bareDatabase = PostgresPool(configuration: PostgresConfiguration(url: try PostgresURL(parsing: bare), poolSize: 1))
        try await Migrator.migrate(bareDatabase, Schema.migrations())
        var new = SiteStore.NewSite(name: TestServices.uniqueName("site"), managers: ["+79160000001"])
        new.balanceMinutes = 10
        let key = try await SiteStore(database: bareDatabase, protection: .development).create(new).key
        try await bareDatabase.query("ALTER TABLE callbacks RENAME COLUMN client_address TO client_gone")
        let port = try LocalHost.freePort()
        let broken = try await APIProcess(environment: ["REDIAL_REDIS_URL": "redis://127.0.0.1:\(port)/0", "REDIAL_DATABASE_URL": bare])
        defer { broken.stop() }
        let response = try await client.send(HTTPClientRequest(method: "POST", url: broken.base + "/v1/callbacks",
                                                               headers: [("X-Site-Key", key), ("Content-Type", "application/json")],
                                                               body: Array(#"{"phone": "+79167778800"}"#.utf8)))
        #expect(response.status == 503, "\(response.text)")
        #expect(try error(response).code == "limits_unavailable")
        #expect(response.header("retry-after") != nil)
    }

    @Test func anUnreachableDatabaseIsAnswered503NotAHang() async throws {
        let port = try LocalHost.freePort()
        let broken = try await APIProcess(environment: ["REDIAL_DATABASE_URL": "postgres://redial@127.0.0.1:\(port)/redial",
                                                        "REDIAL_REDIS_URL": redis.url.description])
        defer { broken.stop() }
        let response = try await client.send(HTTPClientRequest(method: "POST", url: broken.base + "/v1/callbacks",
                                                               headers: [("X-Site-Key", "sk_any"), ("Content-Type", "application/json")],
                                                               body: Array(#"{"phone": "+79167778802"}"#.utf8)))
        #expect(response.status == 503, "\(response.text)")
        #expect(try error(response).code == "database_unavailable")
        #expect(response.header("retry-after") == "5")
    }

    @Test func manySiteKeysDoNotMultiplyTheRingsOnOneNumber() async throws {
        var keys: [String] = []
        for _ in 0..<10 { keys.append(try await site()) }
        // Ten sites, each asked from its own client, for one victim: the default limit per number
        // (7 in 15 minutes) holds across all of them.
        var accepted = 0
        var refused = 0
        var ids: [String] = []
        for round in 0..<2 {
            for (index, key) in keys.enumerated() {
                let response = try await post(key, #"{"phone": "+79169990000"}"#,
                                               headers: [("X-Forwarded-For", "198.51.100.\(index + 1)"), ("Idempotency-Key", "r\(round)")])
                switch response.status {
                case 202:
                    accepted += 1
                    ids.append(try id(response))
                    // Ended, so the next request is a new callback, not a same-phone replay.
                    try await database.query("UPDATE callbacks SET status = 'completed' WHERE id = $1::uuid", [try id(response)])
                case 429: refused += 1
                default: Issue.record("unexpected \(response.status): \(response.text)")
                }
            }
        }
        #expect(accepted == 7 && refused == 13, "accepted \(accepted), refused \(refused)")
        let rows = try await database.query("SELECT count(*)::int AS n FROM callbacks WHERE phone_lookup = $1 AND id = ANY($2::uuid[])",
                                            [DataProtection.development.lookup("+79169990000"), "{\(ids.joined(separator: ","))}"])[0].decode("n", as: Int.self)
        #expect(rows == 7)
    }

    @Test func anIPv6ClientIsOneClientAcrossItsWholeSlash64() async throws {
        let key = try await site { $0.limits = ["client_numbers_per_hour": 2] }
        func from(_ address: String, _ phone: String) async throws -> Int {
            try await post(key, #"{"phone": "\#(phone)"}"#, headers: [("X-Forwarded-For", address)]).status
        }
        #expect(try await from("2001:db8:1:2::1", "+79165550101") == 202)
        #expect(try await from("2001:db8:1:2:ffff::9", "+79165550102") == 202)
        #expect(try await from("2001:db8:1:2:abcd:1:2:3", "+79165550103") == 429, "same /64, third number")
        #expect(try await from("2001:db8:1:3::1", "+79165550103") == 202, "another /64")
    }

    /// `redial sites rotate-key`: the new key works at once, the old one beside it until its
    /// grace ends or it is revoked; `--grace now` stops it at once. Bad input is refused.
    @Test func aRotatedKeyWorksBesideTheNewOneUntilItsGraceEndsOrItIsRevoked() async throws {
        var new = SiteStore.NewSite(name: TestServices.uniqueName("rotating"), managers: ["+79160000001"])
        new.defaultCountryCode = "7"
        new.balanceMinutes = 100
        let (site, first) = try await SiteStore(database: database, protection: .development).create(new)
        let environment = ["REDIAL_DATABASE_URL": databaseURL, "REDIAL_REDIS_URL": redis.url.description]
        var number = 0
        func status(_ key: String) async throws -> Int {
            number += 1
            let response = try await post(key, #"{"phone": "+7916555\#(String(format: "%04d", number))"}"#,
                                          headers: [("X-Forwarded-For", "198.51.100.\(number)")])
            if ![202, 401].contains(response.status) { Issue.record("\(response.status): \(response.text)") }
            return response.status
        }
        func rotate(_ grace: String) async throws -> (status: Int32, key: String, output: String) {
            let run = try await RedialBinary.run(["sites", "rotate-key", site.id, "--grace", grace, "--json"], environment: environment)
            let line = run.output.split(separator: "\n").last { $0.hasPrefix("{") } ?? ""
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return (run.status, object?["site_key"] as? String ?? "", run.output)
        }
        #expect(try await status(first) == 202)

        let second = try await rotate("1h")
        #expect(second.status == 0 && second.key.hasPrefix("sk_") && second.key != first, "\(second.output)")
        #expect(try await status(second.key) == 202, "the new key works at once")
        #expect(try await status(first) == 202, "the old key works through its grace")
        let revoked = try await RedialBinary.run(["sites", "revoke-previous-key", site.id], environment: environment)
        #expect(revoked.status == 0, "\(revoked.output)")
        #expect(try await status(first) == 401, "a revoked key is refused")
        #expect(try await status(second.key) == 202)
        let again = try await RedialBinary.run(["sites", "revoke-previous-key", site.id], environment: environment)
        #expect(again.status == 1 && again.output.contains("no previous key still working"), "\(again.output)")

        let third = try await rotate("now")
        #expect(third.status == 0, "\(third.output)")
        #expect(try await status(second.key) == 401, "with no grace the old key stops at once")
        #expect(try await status(third.key) == 202)

        let tooLong = try await rotate("31d")
        #expect(tooLong.status != 0 && tooLong.output.contains("--grace"), "\(tooLong.output)")
        let nobody = try await RedialBinary.run(["sites", "rotate-key", UUID().uuidString], environment: environment)
        #expect(nobody.status == 1 && nobody.output.contains("no site"), "\(nobody.output)")
        #expect(try await status(third.key) == 202, "a refused rotation changes nothing")
    }

    /// The abuse limiter counts per number across every site in Redis without holding a number:
    /// its keys and members carry a keyed hash. Nothing in the test's Redis shows the digits.
    @Test func theLimitersRedisHoldsNoPhoneNumber() async throws {
        let key = try await site()
        let digits = "7916" + String(format: "%07d", Int.random(in: 0..<10_000_000))
        #expect(try await post(key, #"{"phone": "+\#(digits)"}"#, headers: [("X-Forwarded-For", "198.51.100.77")]).status == 202)
        let connection = RedisConnection(configuration: RedisConfiguration(url: redis.url))
        defer { Task { await connection.close() } }
        let keys = try await connection.send("KEYS", "redial:{limits}:*").array?.compactMap(\.string) ?? []
        #expect(keys.contains { $0.hasPrefix("redial:{limits}:number:") }, "the number is counted: \(keys)")
        var seen = keys
        for limiterKey in keys {
            seen += try await connection.send("ZRANGE", limiterKey, 0, -1).array?.compactMap(\.string) ?? []
        }
        #expect(!seen.isEmpty && !seen.contains { $0.contains(digits) || $0.contains(String(digits.suffix(7))) }, "\(seen)")
    }
}
