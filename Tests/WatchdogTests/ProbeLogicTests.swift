import Foundation
import Testing
@testable import Watchdog

/// What the watchdog decides without the network: the hysteresis, the SIP request and the
/// matching of its answer, the probes file.
@Suite struct ProbeLogicTests {
    @Test func aProbeGoesDownAfterMissesInARowAndUpAfterAnswersInARow() {
        var state = ProbeState(downAfter: 3, upAfter: 2)
        #expect(state.isUp)
        let changes = [false, false, true, false, false, false, true, true].map { state.record($0) }
        #expect(changes == [false, false, false, false, false, true, false, true],
                "an answer between misses starts the count again; down on the third miss in a row, up on the second answer")
        #expect(state.isUp)
        let downAgain = [false, false, false].map { state.record($0) }
        #expect(downAgain == [false, false, true] && !state.isUp)
    }

    @Test func theOptionsRequestIsWellFormed() {
        let request = SIPOptions(requestURI: "sip:trunk@127.0.0.1:5070", localHost: "127.0.0.1", localPort: 40000)
        let lines = request.text.components(separatedBy: "\r\n")
        #expect(lines.first == "OPTIONS sip:trunk@127.0.0.1:5070 SIP/2.0")
        #expect(request.text.hasSuffix("Content-Length: 0\r\n\r\n"))
        let via = lines.first { $0.hasPrefix("Via: SIP/2.0/UDP 127.0.0.1:40000;branch=z9hG4bK") }
        #expect(via != nil)
        for header in ["Max-Forwards: 70", "CSeq: 1 OPTIONS", "Call-ID: \(request.callID)", "To: <sip:trunk@127.0.0.1:5070>"] {
            #expect(lines.contains(header), "\(header)")
        }
        #expect(lines.contains { $0.hasPrefix("From: <sip:watchdog@127.0.0.1>;tag=") && $0.count > 40 })
        let other = SIPOptions(requestURI: "sip:trunk@127.0.0.1:5070", localHost: "127.0.0.1", localPort: 40000)
        #expect(other.branch != request.branch && other.callID != request.callID && other.tag != request.tag)
    }

    @Test func onlyThisRequestsAnswerIsTakenAndProvisionalOnesAreSeen() {
        let request = SIPOptions(requestURI: "sip:trunk@127.0.0.1", localHost: "127.0.0.1", localPort: 40000)
        func answer(_ status: String, branch: String? = nil, callID: String? = nil, cseq: String = "1 OPTIONS", compact: Bool = false) -> String {
            [
                "SIP/2.0 \(status)",
                (compact ? "v: " : "Via: ") + "SIP/2.0/UDP 127.0.0.1:40000;branch=\(branch ?? request.branch);rport=40000",
                "From: <sip:watchdog@127.0.0.1>;tag=\(request.tag)",
                "To: <sip:trunk@127.0.0.1>",  // no To-tag: a trunk need not send one
                (compact ? "i: " : "Call-ID: ") + (callID ?? request.callID),
                "CSeq: \(cseq)",
                "Content-Length: 0", "", "",
            ].joined(separator: "\r\n")
        }
        #expect(request.status(of: answer("200 OK")) == 200)
        #expect(request.status(of: answer("100 Trying")) == 100)
        #expect(request.status(of: answer("404 Not Found", compact: true)) == 404)
        #expect(request.status(of: answer("200 OK", branch: "z9hG4bKsomeoneelse")) == nil)
        #expect(request.status(of: answer("200 OK", callID: "other@host")) == nil)
        #expect(request.status(of: answer("200 OK", cseq: "2 OPTIONS")) == nil)
        #expect(request.status(of: "OPTIONS sip:x SIP/2.0\r\n\r\n") == nil)
        #expect(request.status(of: "garbage") == nil)
    }

    @Test func theShippedProbesLoadAndABadFileIsRefusedNamingTheField() throws {
        let shipped = try ProbeSpec.shipped()
        #expect(Set(shipped.keys) == ProbeSpec.names)
        #expect(shipped["sip_trunk"]?.telephony == true && shipped["redis"]?.telephony == false)
        let text = String(decoding: PackageResources.probes_json, as: UTF8.self)
        func refusal(_ edited: String) -> String? {
            do {
                _ = try ProbeSpec.parse(Array(edited.utf8))
                return nil
            } catch {
                return error.description
            }
        }
        #expect(refusal(text.replacingOccurrences(of: "\"interval_ms\": 5000, \"timeout_ms\": 2000, \"down_after\": 3",
                                                  with: "\"interval_ms\": 5000, \"timeout_ms\": 9000, \"down_after\": 3"))?
            .contains("sip_trunk.timeout_ms: expected ≤ interval_ms") == true)
        #expect(refusal(text.replacingOccurrences(of: "\"max_age_s\": 120\n  },\n  \"release_gate\"", with: "\"max_age_s\": \"soon\"\n  },\n  \"release_gate\""))?
            .contains("callbacks.max_age_s: expected an integer") == true)
        #expect(refusal(text.replacingOccurrences(of: ", \"min_attempts\": 10", with: ""))?.contains("answer_ratio.min_attempts: required") == true)
        #expect(refusal(text.replacingOccurrences(of: "\"redis\": {", with: "\"rediss\": {"))?.contains("unknown probe 'rediss'") == true)
        #expect(refusal("[]")?.contains("expected a JSON object") == true)
    }
}
