/// The scheme, host and port of an http(s) URL, read the way libcurl reads them (a bracketed
/// IPv6 host, userinfo skipped, the scheme's default port), so a check of the host and the
/// transfer agree on where the request goes.
public struct URLParts: Sendable, Equatable {
    public let scheme: String
    /// Lower-cased; an IPv6 literal without its brackets.
    public let host: String
    public let port: Int

    public init?(_ url: String) {
        guard let separator = url.firstRange(of: "://") else { return nil }
        let scheme = url[..<separator.lowerBound].lowercased()
        guard scheme == "http" || scheme == "https" else { return nil }
        var authority = url[separator.upperBound...].prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        var host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let rest = authority[authority.index(after: close)...]
            if rest.hasPrefix(":") { portText = rest.dropFirst() } else if !rest.isEmpty { return nil }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
        }
        guard !host.isEmpty else { return nil }
        let port: Int
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value) else { return nil }
            port = value
        } else {
            port = scheme == "https" ? 443 : 80
        }
        self.scheme = scheme
        self.host = host.lowercased()
        self.port = port
    }
}

extension URLParts {
    /// The URL as error text may show it: without userinfo (a password), query or fragment (a
    /// signed link's token): `https://host:port/path`.
    public static func redacted(_ url: String) -> String {
        guard let separator = url.firstRange(of: "://") else { return "<not a URL>" }
        let rest = url[separator.upperBound...]
        var authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        let path = rest[authority.endIndex...].prefix { $0 != "?" && $0 != "#" }
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        return String(url[..<separator.upperBound] + authority + path)
    }
}
