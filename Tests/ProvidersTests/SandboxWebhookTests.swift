import Foundation
import Providers
import Testing

/// The sandbox adapter's reading of status webhooks: the signature, its age, the body.
@Suite struct SandboxWebhookTests {
    let secret = "test-webhook-secret-0123456789"
    var adapter: SandboxTelephony { SandboxTelephony(baseURL: "http://127.0.0.1:1", webhookSecret: secret) }
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func signed(_ body: String, at time: Date? = nil, secret: String? = nil) -> String {
        let seconds = String(Int((time ?? now).timeIntervalSince1970))
        return "t=\(seconds),v1=" + SandboxWire.sign(Array(body.utf8), time: seconds, secret: Array((secret ?? self.secret).utf8))
    }

    @Test func aSignedEventIsReadIntoTheFlowsWords() throws {
        let body = #"{"event_id": "evt-1", "call_id": "call-1", "status": "completed", "sip_code": 486, "duration_s": 0}"#
        let event = try adapter.event(fromWebhook: Array(body.utf8), signature: signed(body), now: now)
        #expect(event.eventID == "evt-1")
        #expect(event.call == ProviderCall(callID: "call-1", finished: true, outcome: .busy, durationSeconds: 0, recordingURL: nil, sipCode: 486))
        #expect(!event.replayToken.isEmpty)
    }

    @Test func eachWayOfGettingItWrongIsRefusedWithItsOwnCode() {
        let body = #"{"event_id": "evt-1", "call_id": "call-1", "status": "completed", "outcome": "answered"}"#
        let bytes = Array(body.utf8)
        func code(_ signature: String?, _ payload: [UInt8]? = nil) -> String? {
            do {
                _ = try adapter.event(fromWebhook: payload ?? bytes, signature: signature, now: now)
                return nil
            } catch {
                return error.code
            }
        }
        #expect(code(nil) == "unsigned")
        #expect(code("v1=abc") == "bad_signature")
        #expect(code(signed(body, secret: "another-secret-0123456789")) == "bad_signature")
        #expect(code(signed(body, at: now.addingTimeInterval(-301))) == "stale_signature")
        #expect(code(signed(body, at: now.addingTimeInterval(301))) == "stale_signature")
        #expect(code(signed(body)) == nil)
        let tampered = Array(body.replacingOccurrences(of: "answered", with: "busy").utf8)
        #expect(code(signed(body), tampered) == "bad_signature")
        let noCall = #"{"event_id": "evt-1", "status": "completed"}"#
        #expect(code(signed(noCall), Array(noCall.utf8)) == "malformed_event")
    }

    @Test func outcomesComeFromTheWordElseTheSIPCode() {
        #expect(CallOutcome(reported: "no_answer", sipCode: 200) == .noAnswer)
        #expect(CallOutcome(reported: "something new", sipCode: 603) == .rejected)
        #expect(CallOutcome(reported: nil, sipCode: 503) == .networkFailure)
        #expect(CallOutcome(reported: nil, sipCode: nil) == nil)
    }
}
