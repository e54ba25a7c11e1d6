/// A SIP trunk the watchdog probes with OPTIONS (`REDIAL_SIP_TRUNKS`:
/// `name=sip:[user@]host[:port],…`; port 5060 when not given).
public struct SIPTrunk: Sendable, Equatable {
    public let name: String
    public let user: String?
    public let host: String
    public let port: Int

    public init(name: String, user: String?, host: String, port: Int) {
        self.name = name
        self.user = user
        self.host = host
        self.port = port
    }

    /// The Request-URI the OPTIONS is sent to.
    public var uri: String { "sip:" + (user.map { $0 + "@" } ?? "") + host + (port == 5060 ? "" : ":\(port)") }

    /// Parses the variable's comma-separated list; names are 1-64 of A-Z a-z 0-9 . _ - and unique.
    public static func parseList(_ text: String) throws(SettingsError) -> [SIPTrunk] {
        var trunks: [SIPTrunk] = []
        for item in text.split(separator: ",").map({ $0.trimmingSpaces }) where !item.isEmpty {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, (1...64).contains(parts[0].count),
                  parts[0].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }) else {
                throw SettingsError("expected name=sip:[user@]host[:port], got '\(item)'")
            }
            guard parts[1].hasPrefix("sip:") else { throw SettingsError("'\(parts[0])': expected a sip: URI, got '\(parts[1])'") }
            var rest = Substring(parts[1].dropFirst(4))
            var user: String?
            if let at = rest.firstIndex(of: "@") {
                user = String(rest[..<at])
                rest = rest[rest.index(after: at)...]
            }
            let hostPort = rest.split(separator: ":", maxSplits: 1).map(String.init)
            guard let host = hostPort.first, !host.isEmpty, host.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || ".-".contains($0)) }) else {
                throw SettingsError("'\(parts[0])': expected a host name or IPv4 address in '\(parts[1])'")
            }
            var port = 5060
            if hostPort.count == 2 {
                guard let number = Int(hostPort[1]), (1...65535).contains(number) else {
                    throw SettingsError("'\(parts[0])': expected a port 1-65535 in '\(parts[1])'")
                }
                port = number
            }
            guard !trunks.contains(where: { $0.name == parts[0] }) else { throw SettingsError("trunk '\(parts[0])' is named twice") }
            trunks.append(SIPTrunk(name: parts[0], user: user.flatMap { $0.isEmpty ? nil : $0 }, host: host, port: port))
        }
        return trunks
    }
}
