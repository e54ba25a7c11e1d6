import API
import Domain
import Foundation
import Providers
import Queue
import RedisClient

/// Every public parser of Redial behind one entry each, fed arbitrary bytes: the fuzzer drives
/// them (`make fuzz`), `redial-fuzz replay` runs a corpus through them, and `make test` does a
/// short pass over the committed corpora (Tests/FuzzCorpus/<name>/). Bad input may throw, never
/// crash, hang or take memory without bound.
public enum FuzzTargets {
    public static let all: [String: @Sendable ([UInt8]) -> Void] = [
        "phone": phone, "intake": intake, "webhook": webhook, "envelope": envelope, "cron": cron, "resp": resp,
    ]

    /// A number in any national or international form, with and without a default country.
    static func phone(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        #if FUZZ_PLANTED
        // The planted bug the short pass must find (a `REDIAL_FUZZ=planted` build only): a
        // bounds slip on a number with two plus signs, as a hand-written parser might make.
        if let first = bytes.firstIndex(of: 0x2B), let second = bytes[(first + 1)...].firstIndex(of: 0x2B) {
            _ = bytes[second + bytes.count]
        }
        #endif
        _ = try? PhoneNumber(parsing: text, defaultCountryCode: "7")
        _ = try? PhoneNumber(parsing: text, defaultCountryCode: nil)
    }

    /// `POST /v1/callbacks`'s body checks; the first line, when the input has several, is the
    /// Idempotency-Key header.
    static func intake(_ bytes: [UInt8]) {
        let (first, rest) = split(bytes)
        _ = try? IntakeBody.check(bytes, defaultCountryCode: "7", servedCountryCodes: [], deniedPrefixes: ["+882"], idempotencyKey: nil)
        _ = try? IntakeBody.check(rest, defaultCountryCode: nil, servedCountryCodes: ["7", "375"], deniedPrefixes: [],
                                  idempotencyKey: String(decoding: first, as: UTF8.self))
    }

    static let secret = "fuzz-webhook-secret-0123456789"
    static let carrier = SandboxTelephony(baseURL: "http://127.0.0.1:1", webhookSecret: secret)
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    /// The carrier webhook: the input's first line as the `X-Signature` header and the rest as
    /// the body, and the whole input as a body signed rightly (so the event decoder is reached).
    static func webhook(_ bytes: [UInt8]) {
        let (first, rest) = split(bytes)
        _ = try? carrier.event(fromWebhook: rest, signature: String(decoding: first, as: UTF8.self), now: now)
        let time = String(Int(now.timeIntervalSince1970))
        let signature = "t=\(time),v1=" + SandboxWire.sign(bytes, time: time, secret: Array(secret.utf8))
        _ = try? carrier.event(fromWebhook: bytes, signature: signature, now: now)
    }

    /// A stored job's payload read by each kind of handler, under its own type and another's.
    static func envelope(_ bytes: [UInt8]) {
        func job(_ type: String) -> Job {
            Job(id: "01FUZZ", type: type, queue: "callbacks", payload: bytes, attempt: 1, maxAttempts: 3, enqueuedAt: 0, startedAt: 0,
                timeout: nil, fence: 1)
        }
        _ = try? job(DialArgs.jobType).args(DialArgs.self)
        _ = try? job(CheckArgs.jobType).args(CheckArgs.self)
        _ = try? job(CallOutcomeArgs.jobType).args(CallOutcomeArgs.self)
        _ = try? job(RecordingUploadArgs.jobType).args(RecordingUploadArgs.self)
        _ = try? job("callback.dial").args(CheckArgs.self)
    }

    /// A periodic schedule's cron expression, and its next run from a fixed moment in two zones.
    static func cron(_ bytes: [UInt8]) {
        guard let expression = try? CronExpression(String(decoding: bytes, as: UTF8.self)) else { return }
        for zone in ["UTC", "Asia/Kathmandu"] {
            _ = expression.next(after: now, in: TimeZone(identifier: zone)!)
        }
    }

    /// Bytes as a Redis server's replies.
    static func resp(_ bytes: [UInt8]) {
        _ = try? RedisReplyReader.replies(in: bytes)
    }

    /// The bytes before the first newline and those after it (all of them, and nothing, when none).
    static func split(_ bytes: [UInt8]) -> ([UInt8], [UInt8]) {
        guard let newline = bytes.firstIndex(of: 0x0A) else { return ([], bytes) }
        return (Array(bytes[..<newline]), Array(bytes[(newline + 1)...]))
    }
}
