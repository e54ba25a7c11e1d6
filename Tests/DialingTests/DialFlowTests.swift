import CryptoPrimitives
import Domain
import Foundation
import HTTPClient
import LocalServices
import PostgresClient
import Queue
import RedisClient
import Testing
import TestSupport

/// The dial flow end to end: real processes (sandbox, API, relay, workers), real PostgreSQL and
/// Redis. Serialized: the suites share the `callbacks` queue, and each test's workers must be
/// the only ones dialling.
@Suite(.serialized) struct DialFlowTests {
    let database: PostgresPool
    let client = HTTPClient()

    init() async throws {
        database = PostgresPool(configuration: PostgresConfiguration(url: TestServices.postgresURL, poolSize: 2))
        try await Migrator.migrate(database, Schema.migrations())
    }

    func site(balance: Int = 100, hours: WorkingHours = .always, zone: String = "UTC", email: String? = nil,
              language: String = "en") async throws -> (id: String, key: String) {
        var new = SiteStore.NewSite(name: TestServices.uniqueName("dial"), managers: ["+79160000001"])
        new.email = email
        new.language = language
        new.balanceMinutes = balance
        new.hours = hours
        new.timeZone = zone
        // Every test's requests come from a handful of addresses, and the per-client limit counts
        // across sites: these sites allow many numbers per client (the limits have tests of their own).
        new.limits = ["client_numbers_per_hour": 100_000, "client_numbers_per_day": 100_000]
        let (site, key) = try await SiteStore(database: database, protection: .development).create(new)
        return (site.id, key)
    }

    /// The text of an email's base64 parts, decoded (bodies are base64 in UTF-8).
    static func decodedParts(_ email: String) -> String {
        email.replacingOccurrences(of: "\r", with: "").components(separatedBy: "\n\n").compactMap { block in
            let candidate = block.split(separator: "\n").prefix { !$0.hasPrefix("--") }.joined()
            return Data(base64Encoded: candidate).map { String(decoding: $0, as: UTF8.self) }
        }.joined(separator: "\n")
    }

    /// A unique number ending in the magic digit.
    func number(_ digit: Int) -> String { "+7999\(String(format: "%06d", Int.random(in: 0..<1_000_000)))\(digit)" }

    func request(_ cluster: Cluster, key: String, phone: String) async throws -> String {
        let response = try await client.send(HTTPClientRequest(method: "POST", url: cluster.api + "/v1/callbacks",
            headers: [("X-Site-Key", key), ("Content-Type", "application/json"), ("X-Forwarded-For", "192.0.2.\(Int.random(in: 1...250))")],
            body: Array(#"{"phone": "\#(phone)"}"#.utf8)))
        guard response.status == 202, let object = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
              let id = object["id"] as? String else { throw SetupError("intake answered \(response.status): \(response.text)") }
        return id
    }

    struct Row: Equatable {
        let status: String
        let reason: String?
        let attempts: Int
    }

    func state(_ id: String) async throws -> Row {
        let row = try await database.query("""
            SELECT status, reason, (SELECT count(*) FROM attempts a WHERE a.callback_id = c.id)::int AS attempts
            FROM callbacks c WHERE id = $1::uuid
            """, [id])[0]
        return Row(status: try row.decode("status"), reason: try row.decodeIfPresent("reason"), attempts: try row.decode("attempts"))
    }

    func waitTerminal(_ ids: [String], timeout: Duration = .seconds(90)) async throws {
        let done = try await eventually(timeout: timeout, every: .milliseconds(200)) {
            for id in ids where try await !["completed", "failed", "canceled"].contains(state(id).status) { return false }
            return true
        }
        if !done {
            var states: [String] = []
            for id in ids { states.append("\(id): \(try await state(id))") }
            Issue.record("not all terminal: \(states.joined(separator: "; "))")
        }
    }

    /// Waits until the job (by id, or by the dedup key it was enqueued under) has run and come to
    /// rest in one of `states`; the condition tests wait on before they assert that nothing more
    /// happened. Returns the state seen last.
    @discardableResult
    func waitForJob(queue: String, id: String? = nil, dedupKey: String? = nil, states: Set<String> = ["completed"],
                    timeout: Duration = .seconds(30)) async throws -> String? {
        let redis = try await TestServices.redis(poolSize: 1)
        defer { Task { await redis.close() } }
        let keys = Keys(queue: queue)
        var state: String?
        let done = try await eventually(timeout: timeout, every: .milliseconds(50)) {
            var job = id
            if job == nil, let dedupKey { job = try await redis.send("GET", keys.dedup(dedupKey)).string }
            guard let job else { return false }
            state = try await redis.send("HGET", keys.job(job), "state").string
            return state.map(states.contains) ?? false
        }
        if !done { Issue.record("job \(id ?? dedupKey ?? "") in \(queue) is \(state ?? "absent"), not \(states.sorted())") }
        return state
    }

    /// The dedup (and effect) key of a notification: the recipient named by its lookup hash.
    func messageKey(_ channel: String, _ trigger: String, _ instance: String, to recipient: String) -> String {
        "\(channel):\(trigger):\(instance):\(DataProtection.development.lookup(recipient))"
    }

    /// Rings per idempotency key (one key per attempt) for the given visitors.
    func ringsPerAttempt(_ cluster: Cluster, visitors: Set<String>) async throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for ring in try await cluster.rings() where visitors.contains(ring["visitor"] as? String ?? "") {
            counts[ring["idempotency_key"] as? String ?? "", default: 0] += 1
        }
        return counts
    }

    @Test func everyMagicNumberReachesItsTerminalStatus() async throws {
        let mail = try await MailSink()
        defer { mail.stop() }
        let cluster = try await Cluster(smtpURL: mail.url)
        defer { cluster.stop() }
        let (siteID, key) = try await site(email: "owner@shop.test", language: "ru")
        let phones = (0...7).map(number)
        var ids: [String] = []
        for phone in phones { ids.append(try await request(cluster, key: key, phone: phone)) }
        try await waitTerminal(ids)
        let expected: [Row] = [
            Row(status: "completed", reason: nil, attempts: 1),               // 0 answered
            Row(status: "failed", reason: "busy", attempts: 4),               // 1 busy every time
            Row(status: "failed", reason: "no_answer", attempts: 3),          // 2 no answer
            Row(status: "failed", reason: "network_failure", attempts: 5),    // 3 provider 503
            Row(status: "completed", reason: nil, attempts: 3),               // 4 busy, busy, answered
            Row(status: "completed", reason: nil, attempts: 1),               // 5 no webhook: found by polling
            Row(status: "completed", reason: nil, attempts: 1),               // 6 slow originate
            Row(status: "failed", reason: "invalid_number", attempts: 1),     // 7 invalid
        ]
        for (index, id) in ids.enumerated() {
            #expect(try await state(id) == expected[index], "magic digit \(index)")
        }
        let rings = try await ringsPerAttempt(cluster, visitors: Set(phones))
        #expect(rings.values.allSatisfy { $0 == 1 }, "a visitor rung twice for one attempt: \(rings)")
        let expectedRings = 13  // attempts that reached the provider: 1 + 4 + 3 + 0 + 3 + 1 + 1 + 0
        #expect(rings.count == expectedRings)
        // Four answered calls of 30 s: four minutes debited, once each.
        let balance = try await database.query("SELECT balance_minutes FROM sites WHERE id = $1::uuid", [siteID])[0].decode("balance_minutes", as: Int.self)
        #expect(balance == 96)
        let entries = try await BalanceLedger(database: database).entries(siteID: siteID)
        #expect(entries.map(\.minutes).reduce(0, +) == balance && entries.filter { $0.kind == .call }.count == 4,
                "the balance is the ledger's sum, one call entry per debit: \(entries)")
        let debits = try await database.query("SELECT count(*)::int AS n FROM effects WHERE effect_key = ANY(ARRAY(SELECT 'debit:' || unnest($1::text[])))",
                                              ["{" + ids.joined(separator: ",") + "}"])[0].decode("n", as: Int.self)
        #expect(debits == 4)
        // Each failed callback (1, 2, 3, 7) told the manager by SMS, once, naming the visitor.
        let failedPhones = [phones[1], phones[2], phones[3], phones[7]]
        #expect(try await eventually(timeout: .seconds(20)) {
            let texts = try await cluster.messages().compactMap { $0["text"] as? String }
            return failedPhones.allSatisfy { phone in texts.filter { $0.contains(phone) }.count == 1 }
        })
        let failedTexts = try await cluster.messages().filter { message in failedPhones.contains { (message["text"] as? String ?? "").contains($0) } }
        #expect(failedTexts.allSatisfy { $0["to"] as? String == "+79160000001" })
        #expect(failedTexts.contains { ($0["text"] as? String ?? "").contains("invalid number") })
        // And the site's address got one email each: UTF-8 subject, text with an HTML alternative.
        for id in [ids[1], ids[2], ids[3], ids[7]] {
            try await waitForJob(queue: "notifications", dedupKey: messageKey("email", "callback_failed", id, to: "owner@shop.test"))
        }
        let emails = try mail.messages()
        #expect(emails.count == 4)
        let decoded = emails.map(Self.decodedParts)
        for phone in failedPhones { #expect(decoded.filter { $0.contains("не удалось дозвониться до \(phone)") }.count == 1, "one email about \(phone)") }
        #expect(emails.allSatisfy { $0.contains("Subject: =?UTF-8?B?") && $0.contains("multipart/alternative") && $0.contains("Message-ID: <") })
        #expect(Set(emails.compactMap { $0.split(separator: "\n").first { $0.hasPrefix("Message-ID:") } }).count == 4)
        let shown = try await client.send(HTTPClientRequest(url: cluster.api + "/v1/callbacks/\(ids[4])", headers: [("X-Site-Key", key)]))
        let attempts = (try JSONSerialization.jsonObject(with: Data(shown.body)) as? [String: Any])?["attempts"] as? [[String: Any]]
        #expect(attempts?.map { $0["outcome"] as? String } == ["busy", "busy", "answered"])
    }

    @Test func outsideWorkingHoursTheCallbackWaitsForTheOpening() async throws {
        let cluster = try await Cluster()
        defer { cluster.stop() }
        // Open one minute a day, twelve hours from now: closed now, whatever the time.
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let later = Date().addingTimeInterval(12 * 3600)
        let parts = calendar.dateComponents([.hour, .minute], from: later)
        let open = String(format: "%02d:%02d-%02d:%02d", parts.hour!, parts.minute!, parts.hour!, min(parts.minute! + 1, 59))
        let (_, key) = try await site(hours: try WorkingHours(parsing: open.hasSuffix("59-\(String(format: "%02d", parts.hour!)):59") ? "00:00-00:01" : open))
        let phone = number(0)
        let id = try await request(cluster, key: key, phone: phone)
        #expect(try await eventually(timeout: .seconds(30)) { try await state(id).status == "scheduled" })
        // The dial job ran and snoozed until the opening (a snooze leaves it in retry, attempt given back).
        try await waitForJob(queue: "callbacks", dedupKey: "callback.dial:\(id)", states: ["retry"])
        #expect(try await state(id).status == "scheduled")
        #expect(try await ringsPerAttempt(cluster, visitors: [phone]).isEmpty, "nobody is rung outside working hours")
        // The manager hears when it will be called, once (the job snoozes, the SMS is not repeated).
        #expect(try await eventually(timeout: .seconds(20)) {
            try await cluster.messages().contains { ($0["text"] as? String ?? "").contains(phone) && ($0["text"] as? String ?? "").contains("after hours") }
        })
        // A replay of the dial job (a copy run now) snoozes again and sends no second message.
        let redis = try await TestServices.redis(poolSize: 1)
        let replay = try await JobQueue(redis: redis).enqueue(.init(DialArgs(callbackID: try CallbackID(id), attempt: nil),
                                                                      policy: JobPolicy(queue: "callbacks")))
        await redis.close()
        try await waitForJob(queue: "callbacks", id: replay.id, states: ["retry"])
        try await waitForJob(queue: "notifications", dedupKey: messageKey("sms", "after_hours", id, to: "+79160000001"))
        #expect(try await cluster.messages().filter { ($0["text"] as? String ?? "").contains(phone) }.count == 1)
    }

    @Test func killingWorkersMidDialNeverRingsAVisitorTwice() async throws {
        let cluster = try await Cluster(workers: 2)
        defer { cluster.stop() }
        let (_, key) = try await site()
        // Digit 6: the originate takes 5 s, so the kills land in the middle of dials.
        let phones = (0..<4).map { _ in number(6) } + (0..<4).map { _ in number(0) }
        var ids: [String] = []
        for phone in phones { ids.append(try await request(cluster, key: key, phone: phone)) }
        for round in 0..<6 {
            try await Task.sleep(for: .milliseconds(700))
            try cluster.replaceWorker(at: round % 2)
        }
        try await waitTerminal(ids, timeout: .seconds(120))
        for id in ids { #expect(try await state(id).status == "completed") }
        let rings = try await ringsPerAttempt(cluster, visitors: Set(phones))
        #expect(rings.values.allSatisfy { $0 == 1 }, "a visitor rung twice for one attempt: \(rings)")
    }

    func signed(_ body: String, time: Int = Int(Date().timeIntervalSince1970), secret: String = Cluster.secret) -> (String, [(String, String)]) {
        let mac = HMACSHA256.authenticate(Array("\(time).".utf8) + Array(body.utf8), key: Array(secret.utf8)).hexString
        return (body, [("Content-Type", "application/json"), ("X-Signature", "t=\(time),v1=\(mac)")])
    }

    func post(_ cluster: Cluster, _ signed: (String, [(String, String)])) async throws -> Int {
        try await client.send(HTTPClientRequest(method: "POST", url: cluster.api + "/v1/telephony/events", headers: signed.1,
                                          body: Array(signed.0.utf8))).status
    }

    @Test func forgedStaleAndReplayedWebhooksAreRefusedAndRepeatsDebitOnce() async throws {
        let cluster = try await Cluster()
        defer { cluster.stop() }
        let (siteID, key) = try await site(balance: 10)
        let id = try await request(cluster, key: key, phone: number(0))
        try await waitTerminal([id])
        #expect(try await state(id).status == "completed")
        let callID = try await database.query("SELECT provider_call_id FROM attempts WHERE callback_id = $1::uuid", [id])[0]
            .decode("provider_call_id", as: String.self)
        let event = #"{"event_id": "evt-\#(callID)", "call_id": "\#(callID)", "status": "completed", "outcome": "answered", "duration_s": 30}"#
        #expect(try await post(cluster, (event, [("Content-Type", "application/json")])) == 401, "unsigned")
        #expect(try await post(cluster, signed(event, secret: "a-forger-guessing-the-secret")) == 401, "forged")
        #expect(try await post(cluster, signed(event, time: Int(Date().timeIntervalSince1970) - 3600)) == 401, "stale")
        #expect(try await post(cluster, signed(event.replacingOccurrences(of: "30", with: "3000"), time: 0)) == 401, "tampered and stale")
        let fresh = signed(event)
        #expect(try await post(cluster, fresh) == 200, "a provider's redelivery, freshly signed")
        #expect(try await post(cluster, fresh) == 401, "the same signed request replayed")
        // Out of order: a late "busy" for the already answered attempt changes nothing.
        let late = #"{"event_id": "evt-late-\#(callID)", "call_id": "\#(callID)", "status": "completed", "outcome": "busy"}"#
        #expect(try await post(cluster, signed(late)) == 200)
        try await waitForJob(queue: "callbacks", dedupKey: "callback.outcome:evt-late-\(callID)")
        #expect(try await state(id) == Row(status: "completed", reason: nil, attempts: 1))
        let balance = try await database.query("SELECT balance_minutes FROM sites WHERE id = $1::uuid", [siteID])[0].decode("balance_minutes", as: Int.self)
        #expect(balance == 9, "debited exactly once")
    }

    @Test func theReconcilerRevivesACallbackWhoseJobVanished() async throws {
        let cluster = try await Cluster()
        defer { cluster.stop() }
        let (_, key) = try await site()
        // Stop the workers first, so the job waits in Redis; then delete it, as a lost write would.
        for worker in cluster.workers { worker.stop(signal: SIGTERM) }
        let phone = number(0)
        let id = try await request(cluster, key: key, phone: phone)
        let redis = try await TestServices.redis()
        let keys = Keys(queue: "callbacks")
        let dedup = keys.dedup("callback.dial:\(id)")
        let jobID = try await eventually(timeout: .seconds(10)) {
            try await redis.send("GET", dedup).string != nil
        }
        #expect(jobID)
        let job = try await redis.send("GET", dedup).string ?? ""
        // Both must have happened, or the callback would complete without the reconciler.
        #expect(try await redis.send("LREM", keys.ready, 0, job) == .integer(1))
        #expect(try await redis.send("DEL", keys.job(job)) == .integer(1))
        try cluster.startWorker()
        try await waitTerminal([id], timeout: .seconds(60))
        #expect(try await state(id).status == "completed")
        await redis.close()
    }
}
