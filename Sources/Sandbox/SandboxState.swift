import Foundation
import Providers

/// Everything the simulated provider remembers: calls by id and by idempotency key, every
/// ring and SMS it made (for tests to count), and the fault switches.
actor SandboxState {
    struct Call: Sendable, Codable {
        let callID: String
        let visitor: String
        let managers: [String]
        let idempotencyKey: String
        let callbackURL: String
        var status: String  // initiated, ringing, in_progress, completed
        var outcome: String?  // answered, busy, no_answer, rejected, invalid_number, no_funds, network_failure
        var sipCode: Int?
        var durationSeconds: Int?
        var recordingURL: String?
        let createdAt: Date

        enum CodingKeys: String, CodingKey {
            case callID = "call_id", visitor, managers, idempotencyKey = "idempotency_key", callbackURL = "callback_url"
            case status, outcome, sipCode = "sip_code", durationSeconds = "duration_s", recordingURL = "recording_url"
            case createdAt = "created_at"
        }

        /// The call as the carrier's protocol reports it.
        var wire: SandboxWire.CallStatus {
            SandboxWire.CallStatus(callID: callID, status: status, outcome: outcome, sipCode: sipCode, durationSeconds: durationSeconds,
                                   recordingURL: recordingURL)
        }
    }

    struct SMS: Sendable, Codable {
        let smsID: String
        let to: String
        let text: String
        let idempotencyKey: String?
        let createdAt: Date

        enum CodingKeys: String, CodingKey {
            case smsID = "sms_id", to, text, idempotencyKey = "idempotency_key", createdAt = "created_at"
        }
    }

    struct Faults: Sendable, Codable {
        /// Share of originate and SMS requests answered 503, 0…1.
        var errorRate = 0.0
        /// Added to every provider response, ms.
        var latencyMs = 0
        /// Webhooks are not sent (calls must be found by polling).
        var dropWebhooks = false
        /// Size of every call recording served (default: 30 s of 8 kHz 16-bit mono WAV).
        var recordingBytes = 480_044
        /// Share of first originates (per idempotency key) that place the call and then answer as
        /// if they had failed: 504, or a 200 whose body is cut off. A retry under the same key
        /// gets the call. 0…1.
        var placeThenFail = 0.0
        /// After placing a call, wait this long before answering (a client's timeout fires
        /// while the phone already rings), ms.
        var slowAfterPlaceMs = 0
        /// The look-up of a call by idempotency key answers 503: the carrier cannot say.
        var lookupFails = false
        /// How long an answered call talks, s (× the time scale).
        var talkSeconds = 30
        /// The API takes calls but the network fails every one (SIP 503 after the ring time): the
        /// outage an OPTIONS probe cannot see, which the answer ratio and the test call do.
        var callsFail = false
        /// Every payment event is delivered twice (a provider's at-least-once webhooks).
        var duplicatePaymentEvents = false

        enum CodingKeys: String, CodingKey {
            case errorRate = "error_rate", latencyMs = "latency_ms", dropWebhooks = "drop_webhooks", recordingBytes = "recording_bytes"
            case placeThenFail = "place_then_fail", slowAfterPlaceMs = "slow_after_place_ms", lookupFails = "lookup_fails"
            case talkSeconds = "talk_s", callsFail = "calls_fail", duplicatePaymentEvents = "duplicate_payment_events"
        }

        init() {}

        /// Fields left out keep their defaults, so a client sets only the switch it cares about.
        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            errorRate = try container.decodeIfPresent(Double.self, forKey: .errorRate) ?? errorRate
            latencyMs = try container.decodeIfPresent(Int.self, forKey: .latencyMs) ?? latencyMs
            dropWebhooks = try container.decodeIfPresent(Bool.self, forKey: .dropWebhooks) ?? dropWebhooks
            recordingBytes = try container.decodeIfPresent(Int.self, forKey: .recordingBytes) ?? recordingBytes
            placeThenFail = try container.decodeIfPresent(Double.self, forKey: .placeThenFail) ?? placeThenFail
            slowAfterPlaceMs = try container.decodeIfPresent(Int.self, forKey: .slowAfterPlaceMs) ?? slowAfterPlaceMs
            lookupFails = try container.decodeIfPresent(Bool.self, forKey: .lookupFails) ?? lookupFails
            talkSeconds = try container.decodeIfPresent(Int.self, forKey: .talkSeconds) ?? talkSeconds
            callsFail = try container.decodeIfPresent(Bool.self, forKey: .callsFail) ?? callsFail
            duplicatePaymentEvents = try container.decodeIfPresent(Bool.self, forKey: .duplicatePaymentEvents) ?? duplicatePaymentEvents
        }
    }

    private(set) var calls: [String: Call] = [:]
    private var byKey: [String: String] = [:]
    private(set) var rings: [Call] = []
    private(set) var messages: [SMS] = []
    private var smsByKey: [String: String] = [:]
    private var originatesPerVisitor: [String: Int] = [:]
    var faults = Faults()
    /// Payment events delivered (each delivery, duplicates too), for tests.
    private(set) var paymentDeliveries: [String] = []
    /// Each checkout's minutes and where its page sends the payer back.
    private(set) var checkouts: [String: (minutes: Int, returnURL: String?)] = [:]

    func opened(checkout id: String, minutes: Int, returnURL: String?) {
        checkouts[id] = (minutes, returnURL)
    }

    func delivered(payment id: String) {
        paymentDeliveries.append(id)
    }
    private var sequence = 0

    /// Keys whose first originate is still being processed (e.g. the slow number 6).
    private var inProgress: Set<String> = []

    enum Claim {
        case existing(Call)
        case mine
        case refused
    }

    /// Claims an idempotency key for a new originate, or finds the call it already made. A
    /// request whose key is being processed by another waits for it: the same key must never
    /// ring twice, even when a retry arrives while the first request is still running.
    func claim(key: String) async -> Claim {
        for _ in 0..<600 {
            if let call = byKey[key].flatMap({ calls[$0] }) { return .existing(call) }
            if !inProgress.contains(key) {
                inProgress.insert(key)
                return .mine
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return .refused
    }

    /// Gives up a claimed key without a call (the originate failed); a retry may try again.
    func release(key: String) { inProgress.remove(key) }

    /// Records a new ring; returns the call and how many times this visitor was rung before.
    func newCall(visitor: String, managers: [String], key: String, callbackURL: String) -> (Call, Int) {
        sequence += 1
        let call = Call(callID: "call-\(sequence)-\(UInt32.random(in: 0...UInt32.max))", visitor: visitor, managers: managers,
                        idempotencyKey: key, callbackURL: callbackURL, status: "initiated", createdAt: Date())
        calls[call.callID] = call
        byKey[key] = call.callID
        inProgress.remove(key)
        // A call to the test number rings nobody: it is not in the ring log.
        if visitor != SandboxWire.testNumber { rings.append(call) }
        let previous = originatesPerVisitor[visitor, default: 0]
        originatesPerVisitor[visitor] = previous + 1
        return (call, previous)
    }

    /// Every ring made, in order, each as the call stands now (its outcome once it ended).
    func ringLog() -> [Call] { rings.map { calls[$0.callID] ?? $0 } }

    /// The call placed under an idempotency key, if any.
    func call(key: String) -> Call? { byKey[key].flatMap { calls[$0] } }

    func update(_ id: String, _ change: (inout Call) -> Void) -> Call? {
        guard var call = calls[id] else { return nil }
        change(&call)
        calls[id] = call
        return call
    }

    func sms(to: String, text: String, key: String?) -> (SMS, Bool) {
        if let key, let id = smsByKey[key], let existing = messages.first(where: { $0.smsID == id }) { return (existing, false) }
        sequence += 1
        let message = SMS(smsID: "sms-\(sequence)", to: to, text: text, idempotencyKey: key, createdAt: Date())
        messages.append(message)
        if let key { smsByKey[key] = message.smsID }
        return (message, true)
    }

    func setFaults(_ faults: Faults) { self.faults = faults }
}
