import Foundation
import Queue
import Testing
import TestSupport

/// Job payloads must be one JSON value: the enqueue checks them (without a JSON parser's object
/// graph) and refuses anything else, saying where the text stops being JSON.
@Suite struct PayloadValidationTests {
    let jobs: JobQueue
    let policy: JobPolicy

    init() async throws {
        jobs = JobQueue(redis: try await TestServices.redis())
        policy = JobPolicy(queue: TestServices.uniqueName("payload"), maxAttempts: 1)
    }

    /// nil when the enqueue took the payload, else its refusal.
    func refusal(_ payload: String) async throws -> String? {
        do {
            _ = try await jobs.enqueue(.init(type: "noop", payload: payload, policy: policy))
            return nil
        } catch let error as QueueError where error.code == .invalidRequest {
            return error.message
        }
    }

    @Test(arguments: [
        "{}", "[]", "0", "-0", "12", "-1.5e10", "2E-3", "1e+2", "0.25", #""""#, #""é😀""#, "true", "false", "null",
        #"  {"a": [1, 2, {"b": null}], "c": "d"}  "#, "\n\t[\r\n]", #"{"e": "\"\\\/\b\f\n\r\t"}"#,
        #""\u00e9\uD83D\uDE00""#, #"{"":0}"#, "[[[[]]]]", #"{"a":{"a":{"a":[true,false,null]}}}"#,
    ])
    func validPayloadsAreTaken(payload: String) async throws {
        #expect(try await refusal(payload) == nil)
    }

    @Test(arguments: [
        ("", "expected a value at byte 0, found the end"),
        ("   ", "expected a value at byte 3, found the end"),
        ("{", "expected a member name in double quotes at byte 1, found the end"),
        (#"{"a"}"#, "expected ':' at byte 4, found '}'"),
        (#"{"a":}"#, "expected a value at byte 5, found '}'"),
        (#"{"a":1,}"#, "expected a member name in double quotes at byte 7, found '}'"),
        ("{a:1}", "expected a member name in double quotes at byte 1, found 'a'"),
        ("[1,]", "expected a value at byte 3, found ']'"),
        ("[1 2]", "expected ',' or ']' at byte 3, found '2'"),
        ("[1]]", "expected the end of the text at byte 3, found ']'"),
        ("{} {}", "expected the end of the text at byte 3, found '{'"),
        ("01", "expected the end of the text at byte 1, found '1'"),
        ("1.", "expected a digit after the decimal point at byte 2, found the end"),
        (".5", "expected a value at byte 0, found '.'"),
        ("1e", "expected a digit in the exponent at byte 2, found the end"),
        ("+1", "expected a value at byte 0, found '+'"),
        ("-", "expected a digit at byte 1, found the end"),
        ("tru", "expected 'true' at byte 3, found the end"),
        ("nul1", "expected 'null' at byte 3, found '1'"),
        ("NaN", "expected a value at byte 0, found 'N'"),
        ("'a'", "expected a value at byte 0, found '''"),
        (#""abc"#, "expected '\"' closing the string at byte 4, found the end"),
        (#""\x""#, "expected an escape"),
        (#""\u12""#, "expected four hex digits after \\u at byte 5"),
        (#""\ud800""#, "expected \\u and a low surrogate after a high surrogate at byte 7"),
        (#""\ud800\u0041""#, "expected a low surrogate"),
        (#""\udc00""#, "expected a high surrogate before a low surrogate at byte 3"),
        ("\"a\tb\"", "expected a control character escaped"),
        ("\u{FEFF}{}", "expected a value at byte 0, found byte 0xef"),
    ])
    func badPayloadsAreRefusedSayingWhere(payload: String, problem: String) async throws {
        let message = try #require(try await refusal(payload))
        #expect(message.contains("not valid JSON"))
        #expect(message.contains(problem))
    }

    @Test func nestingIsBoundedAt512() async throws {
        let deepest = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
        #expect(try await refusal(deepest) == nil)
        let deeper = String(repeating: "[", count: 513) + String(repeating: "]", count: 513)
        let message = try #require(try await refusal(deeper))
        #expect(message.contains("containers nested deeper than 512 at byte 512"), "\(message)")
    }

    /// The check agrees with Foundation's JSON parser, the reference here, on a few hundred
    /// mutations of valid documents (a fixed seed, so a failure repeats). One known difference:
    /// Foundation takes a comma before a closing bracket, which RFC 8259 does not allow (and
    /// other readers of a payload refuse), so the check refuses it; those texts are not compared.
    @Test func agreesWithFoundationsParserOnMutatedDocuments() async throws {
        let documents = [
            #"{"callback": "01J9", "attempt": 2, "phones": ["+4930123", "+4930456"], "ok": true, "n": null}"#,
            #"[1, -2.5e-3, 0, {"a": {"b": []}}, "\u00e9\n", false]"#,
            #"{"t": 1732614000123, "nested": [[{"x": "y"}], {}], "s": "\"quoted\" \\ slash \/"}"#,
        ]
        let alphabet = Array(#"{}[]:,"\/ -+.0123456789eEtrufalsnbu"#.utf8)
        var random = SplitMix64(seed: 20_261_126)
        var disagreements: [String] = []
        for round in 0..<300 {
            var bytes = Array(documents[round % documents.count].utf8)
            for _ in 0...(round % 3) {
                let position = Int(random.next() % UInt64(bytes.count))
                let byte = alphabet[Int(random.next() % UInt64(alphabet.count))]
                switch random.next() % 3 {
                case 0: bytes.remove(at: position)
                case 1: bytes.insert(byte, at: position)
                default: bytes[position] = byte
                }
            }
            let text = String(decoding: bytes, as: UTF8.self)
            if text.contains(/,\s*[\]}]/) {
                #expect(try await refusal(text) != nil, "a trailing comma was taken: \(text)")
                continue
            }
            let foundation = (try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])) != nil
            let taken = try await refusal(text) == nil
            if foundation != taken { disagreements.append("\(text) — Foundation \(foundation), enqueue \(taken)") }
        }
        #expect(disagreements.isEmpty, "\(disagreements.joined(separator: "\n"))")
    }
}

/// A small deterministic generator (SplitMix64) for the mutation test.
private struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Typed args name their payload version from 2 on; version 1 payloads stay as they were.
@Suite struct PayloadVersionTests {
    struct Current: JobArgs {
        static let jobType = "versioned"
        let number: Int
    }

    struct Newer: JobArgs {
        static let jobType = "versioned"
        static let payloadVersion = 2
        let number: Int
    }

    @Test func aNewerPayloadCarriesItsVersionAndAFirstOneDoesNot() throws {
        let policy = JobPolicy(queue: "versioned")
        #expect(try JobQueue.Request(Current(number: 7), policy: policy).payload == #"{"number":7}"#)
        #expect(try JobQueue.Request(Newer(number: 7), policy: policy).payload == #"{"number":7,"payload_version":2}"#)
    }
}
