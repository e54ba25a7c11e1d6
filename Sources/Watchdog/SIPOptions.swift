import Foundation

/// One SIP OPTIONS request and the reading of its answer (RFC 3261): a Via with a fresh
/// `z9hG4bK` branch, a From tag, a Call-ID, CSeq, Max-Forwards and `Content-Length: 0`. An answer
/// is this request's only when its top Via branch, Call-ID and CSeq all match.
struct SIPOptions: Sendable {
    let requestURI: String
    let localHost: String
    let localPort: Int
    let branch: String
    let tag: String
    let callID: String

    init(requestURI: String, localHost: String, localPort: Int) {
        self.requestURI = requestURI
        self.localHost = localHost
        self.localPort = localPort
        branch = "z9hG4bK" + Self.token()
        tag = Self.token()
        callID = Self.token() + "@redial-watchdog"
    }

    static func token() -> String {
        String((0..<16).map { _ in "0123456789abcdefghijklmnopqrstuvwxyz".randomElement()! })
    }

    var text: String {
        [
            "OPTIONS \(requestURI) SIP/2.0",
            "Via: SIP/2.0/UDP \(localHost):\(localPort);branch=\(branch);rport",
            "Max-Forwards: 70",
            "From: <sip:watchdog@\(localHost)>;tag=\(tag)",
            "To: <\(requestURI)>",
            "Call-ID: \(callID)",
            "CSeq: 1 OPTIONS",
            "Contact: <sip:watchdog@\(localHost):\(localPort)>",
            "Accept: application/sdp",
            "User-Agent: redial-watchdog",
            "Content-Length: 0",
            "", "",
        ].joined(separator: "\r\n")
    }

    /// The status code of an answer to this request; nil for anything else (another
    /// transaction's answer, a request, garbage).
    func status(of datagram: String) -> Int? {
        // "\r\n" is one Character in Swift: split the text as lines, whichever ending it uses.
        let lines = datagram.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false)
        guard let first = lines.first, first.hasPrefix("SIP/2.0 "),
              let code = Int(first.dropFirst("SIP/2.0 ".count).prefix(3)), (100...699).contains(code) else { return nil }
        var via: Substring?, call: Substring?, cseq: Substring?
        for line in lines.dropFirst() {
            if line.isEmpty { break }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: colon)...].drop { $0 == " " || $0 == "\t" }
            switch name {
            case "via", "v": if via == nil { via = value }  // the top Via is ours
            case "call-id", "i": call = value
            case "cseq": cseq = value
            default: break
            }
        }
        guard let via, via.contains("branch=\(branch)"), call == Substring(callID),
              let cseq, cseq.split(separator: " ").map(String.init) == ["1", "OPTIONS"] else { return nil }
        return code
    }
}
