import CryptoPrimitives
import Foundation

/// The JSON and signature of the sandbox carrier's protocol, written once for both sides:
/// `redial sandbox` (the carrier) writes them, `SandboxTelephony` (the adapter) reads them.
public enum SandboxWire {
    /// The carrier's test line: a call to it rings nobody and is billed to nobody, answers after
    /// the ring time and hangs up (the watchdog's synthetic call).
    public static let testNumber = "+15005550000"

    /// A call as `GET /v1/calls/<id>` (and the originate answer) reports it.
    public struct CallStatus: Codable, Sendable, Equatable {
        public let callID: String
        /// initiated, ringing, in_progress, completed
        public let status: String
        public let outcome: String?
        public let sipCode: Int?
        public let durationSeconds: Int?
        public let recordingURL: String?

        public init(callID: String, status: String, outcome: String?, sipCode: Int?, durationSeconds: Int?, recordingURL: String?) {
            self.callID = callID
            self.status = status
            self.outcome = outcome
            self.sipCode = sipCode
            self.durationSeconds = durationSeconds
            self.recordingURL = recordingURL
        }

        enum CodingKeys: String, CodingKey {
            case callID = "call_id", status, outcome, sipCode = "sip_code", durationSeconds = "duration_s", recordingURL = "recording_url"
        }
    }

    /// The answer to `GET /v1/calls?idempotency_key=`.
    public struct CallList: Codable, Sendable {
        public let calls: [CallStatus]
        public init(calls: [CallStatus]) { self.calls = calls }
    }

    /// A status webhook's body: the call's final state under the event's own id.
    public struct Event: Codable, Sendable {
        public let eventID: String
        public let call: CallStatus

        public init(eventID: String, call: CallStatus) {
            self.eventID = eventID
            self.call = call
        }

        enum CodingKeys: String, CodingKey { case eventID = "event_id" }

        public init(from decoder: any Decoder) throws {
            eventID = try decoder.container(keyedBy: CodingKeys.self).decode(String.self, forKey: .eventID)
            call = try CallStatus(from: decoder)
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(eventID, forKey: .eventID)
            try call.encode(to: encoder)
        }
    }

    /// The webhook signature header: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
    public static let signatureHeader = "X-Signature"
    /// How old (or how far in the future) a signature may be.
    public static let signatureTolerance: TimeInterval = 300

    /// The `v1` MAC of a webhook body sent at `time` (unix seconds).
    public static func sign(_ body: [UInt8], time: String, secret: [UInt8]) -> String {
        HMACSHA256.authenticate(Array("\(time).".utf8) + body, key: secret).hexString
    }

    /// Checks a webhook's `X-Signature` against the shared secrets (the current one, or the one
    /// before a rotation) and its age; returns the MAC (a signed request's replay token).
    public static func verifiedMAC(of body: [UInt8], signature: String?, secrets: [[UInt8]], now: Date) throws(WebhookRejection) -> [UInt8] {
        guard let signature else { throw .unsigned("the \(signatureHeader) header is required") }
        var fields: [Substring: Substring] = [:]
        for part in signature.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1)
            if pair.count == 2 { fields[pair[0].trimmingPrefix(" ")] = pair[1] }
        }
        guard let time = fields["t"], let seconds = TimeInterval(time), let mac = fields["v1"].flatMap({ [UInt8](hexString: $0) }) else {
            throw .badSignature("\(signatureHeader) must be t=<unix seconds>,v1=<hex>")
        }
        guard abs(now.timeIntervalSince1970 - seconds) <= signatureTolerance else {
            throw .staleSignature("the signature is older than \(Int(signatureTolerance)) s (or from the future)")
        }
        let signed = Array("\(time).".utf8) + body
        guard secrets.contains(where: { HMACSHA256.verify(mac, message: signed, key: $0) }) else {
            throw .badSignature("the signature does not match the body")
        }
        return mac
    }

    /// The outcome a call status reports, once the call is over.
    static func outcome(of call: CallStatus) -> CallOutcome? {
        call.status == "completed" ? CallOutcome(reported: call.outcome, sipCode: call.sipCode) : nil
    }
}
