import Foundation
import Jobs
import Queue
import Testing

@Suite struct CatalogTests {
    struct Nothing: JobHandler {
        func run(_ job: Job) async throws -> JobOutcome { .completed }
    }

    let handlers: [String: any JobHandler] = ["mail": Nothing()]

    func policy(_ text: String, path: String = "Jobs/mail/mail.policy.json") throws -> [JobDefinition] {
        try Catalog.load(files: [(path, Array(text.utf8))], handlers: handlers)
    }

    let valid = """
        {"type": "mail", "queue": "notify", "max_attempts": 4, "backoff": {"base_ms": 500, "cap_ms": 8000},
         "timeout_ms": 30000, "dedup_window_ms": 60000, "priority": "high", "replicas": 1}
        """

    @Test func theShippedCatalogLoadsWithTheBuiltInTypes() throws {
        let types = try Catalog.load().map(\.type)
        #expect(Set(["noop", "sleep", "flaky"]).isSubset(of: Set(types)))
    }

    @Test func aValidPolicyBecomesAJobPolicy() throws {
        let definition = try #require(try policy(valid).first)
        #expect(definition.type == "mail")
        var expected = JobPolicy(queue: "notify", maxAttempts: 4, backoffBase: .milliseconds(500), backoffCap: .seconds(8),
                                 timeout: .seconds(30), dedupWindow: .seconds(60), priority: .high)
        expected.replicas = 1
        #expect(definition.policy == expected)
    }

    @Test(arguments: [
        (#"{"type": "mail", "queue": "q", "max_attempts": 0, "backoff": {"base_ms": 1, "cap_ms": 1}, "timeout_ms": 1}"#,
         "field 'max_attempts': expected an integer 1-1000, got 0"),
        (#"{"type": "mail", "queue": "q", "max_attempts": true, "backoff": {"base_ms": 1, "cap_ms": 1}, "timeout_ms": 1}"#,
         "field 'max_attempts': expected an integer"),
        (#"{"type": "mail", "queue": "q", "max_attempts": 1, "backoff": {"base_ms": 10, "cap_ms": 1}, "timeout_ms": 1}"#,
         "field 'backoff.cap_ms': expected ≥ backoff.base_ms (10), got 1"),
        (#"{"type": "mail", "queue": "q", "max_attempts": 1, "backoff": 5, "timeout_ms": 1}"#,
         "field 'backoff': expected an object"),
        (#"{"type": "mail", "queue": "no spaces", "max_attempts": 1, "backoff": {"base_ms": 1, "cap_ms": 1}, "timeout_ms": 1}"#,
         "field 'queue': expected 1-64 of"),
        (#"{"type": "mail", "queue": "q", "max_attempts": 1, "backoff": {"base_ms": 1, "cap_ms": 1}}"#,
         "field 'timeout_ms': expected an integer 1-86400000, got nothing"),
        (#"{"type": "mail", "queue": "q", "max_atempts": 1}"#, "field 'max_atempts': unknown field"),
        (#"{"type": "mail", "queue": "q", "max_attempts": 1, "backoff": {"base_ms": 1, "cap_ms": 1}, "timeout_ms": 1, "priority": "urgent"}"#,
         "field 'priority': expected one of high, normal, got 'urgent'"),
        (#"{"type": "mail", "queue": "q", "max_attempts": 1, "backoff": {"base_ms": 1, "cap_ms": 1}, "timeout_ms": 1, "replicas": 6}"#,
         "field 'replicas': expected an integer 0-5, got 6"),
        (#"{"type": "post", "queue": "q"}"#, "field 'type': 'post' does not match the file name"),
        ("[1, 2]", "expected a JSON object"),
        ("{not json", "not valid JSON"),
    ])
    func aBadFileIsRefusedNamingTheFileTheFieldAndTheProblem(text: String, message: String) {
        #expect {
            try policy(text)
        } throws: { error in
            let description = "\(error)"
            return description.hasPrefix("Jobs/mail/mail.policy.json: ") && description.contains(message)
        }
    }

    @Test func policiesAndHandlersMustPairUp() {
        #expect {
            try Catalog.load(files: [], handlers: handlers)
        } throws: { "\($0)".contains("Jobs/mail/mail.policy.json: missing: handler 'mail' has no policy file") }
        let orphan = valid.replacingOccurrences(of: "\"mail\"", with: "\"fax\"")
        #expect {
            try Catalog.load(files: [("Jobs/fax/fax.policy.json", Array(orphan.utf8))], handlers: handlers)
        } throws: { "\($0)".contains("no handler is registered for 'fax'") }
        #expect {
            try Catalog.load(files: [("Jobs/mail/mail.policy.json", Array(valid.utf8)), ("Jobs/mail/mail.policy.json", Array(valid.utf8))],
                             handlers: handlers)
        } throws: { "\($0)".contains("declared twice") }
    }
}

@Suite struct JobPolicyTests {
    @Test func backoffIsFullJitterUnderAnExponentialCappedCeiling() {
        let policy = JobPolicy(backoffBase: .milliseconds(100), backoffCap: .seconds(1))
        for attempt in 1...8 {
            let ceiling = min(1000, 100 << (attempt - 1))
            let delays = (0..<200).map { _ in policy.backoff(afterAttempt: attempt) }
            #expect(delays.allSatisfy { $0 >= .zero && $0 <= .milliseconds(ceiling) })
            // Full jitter spreads retries: not all equal, and some fall in the lower half.
            #expect(Set(delays).count > 1)
            #expect(delays.contains { $0 < .milliseconds(ceiling / 2) })
        }
        #expect(policy.backoff(afterAttempt: 10_000) <= .seconds(1))
    }

    @Test func jobIDsSortByTimeAndAreUnique() {
        let early = JobID.make(milliseconds: 1_000)
        let late = JobID.make(milliseconds: 2_000)
        #expect(early < late)
        #expect(Set((0..<10_000).map { _ in JobID.make() }).count == 10_000)
        #expect(JobID.isValid(early))
        #expect(!JobID.isValid("not-an-id"))
    }
}
