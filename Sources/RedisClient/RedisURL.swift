/// Where a Redis server is and how to log in: parsed from `redis://[[user]:password@]host[:port][/db]`.
public struct RedisURL: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var username: String?
    public var password: String?
    public var database: Int

    public init(host: String, port: Int = 6379, username: String? = nil, password: String? = nil, database: Int = 0) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
    }

    /// Parses a `redis://` URL; the error says what was expected and what was found.
    public init(parsing text: String) throws(RedisError) {
        let expected = "expected redis://[:password@]host:port[/db]"
        func bad(_ why: String) -> RedisError {
            RedisError(.invalidURL, "\(expected), got '\(RedisURL.redacted(text))': \(why)")
        }
        guard text.hasPrefix("redis://") else { throw bad("scheme must be redis://") }
        var rest = Substring(text.dropFirst("redis://".count))
        var username: String?
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                let user = credentials[..<colon]
                username = user.isEmpty ? nil : RedisURL.percentDecoded(user)
                password = RedisURL.percentDecoded(credentials[credentials.index(after: colon)...])
            } else {
                password = RedisURL.percentDecoded(credentials)
            }
        }
        var database = 0
        if let slash = rest.firstIndex(of: "/") {
            let db = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
            if !db.isEmpty {
                guard let n = Int(db), n >= 0, n < 1 << 16 else { throw bad("database must be a number ≥ 0") }
                database = n
            }
        }
        var host = String(rest)
        var port = 6379
        if let colon = rest.lastIndex(of: ":") {
            host = String(rest[..<colon])
            guard let p = Int(rest[rest.index(after: colon)...]), (1...65535).contains(p) else {
                throw bad("port must be 1-65535")
            }
            port = p
        }
        guard !host.isEmpty, !host.contains(where: { $0 == " " || $0 == "?" || $0 == "#" }) else {
            throw bad("host is missing or malformed")
        }
        self.init(host: host, port: port, username: username, password: password, database: database)
    }

    /// The URL with any password masked, for logs and error messages.
    public var description: String {
        let credentials = password == nil ? "" : "\(username ?? ""):***@"
        return "redis://\(credentials)\(host):\(port)/\(database)"
    }

    static func redacted(_ text: String) -> String {
        guard let at = text.lastIndex(of: "@"), let start = text.firstRange(of: "://")?.upperBound, start < at else {
            return text
        }
        return text[..<start] + "***" + text[at...]
    }

    static func percentDecoded(_ text: Substring) -> String {
        text.removingPercentEncodingIfValid()
    }
}

extension Substring {
    /// `%XX` sequences decoded when the result is valid UTF-8; the text unchanged otherwise.
    func removingPercentEncodingIfValid() -> String {
        var bytes: [UInt8] = []
        var index = startIndex
        while index < endIndex {
            let c = self[index]
            if c == "%", let end = self.index(index, offsetBy: 3, limitedBy: endIndex),
               let byte = UInt8(self[self.index(after: index)..<end], radix: 16) {
                bytes.append(byte)
                index = end
            } else {
                bytes.append(contentsOf: Array(String(c).utf8))
                index = self.index(after: index)
            }
        }
        return String(validating: bytes, as: UTF8.self) ?? String(self)
    }
}
