/// Where a Redis server is and how to log in: parsed from `redis://[[user]:password@]host[:port][/db]`,
/// or `redis-sentinel://[[user]:password@]host:port[,host:port…]/MASTER[/db]`: the sentinels to ask
/// where the master named MASTER is (the credentials are the master's).
public struct RedisURL: Sendable, Hashable, CustomStringConvertible {
    public struct Address: Sendable, Hashable, CustomStringConvertible {
        public var host: String
        public var port: Int

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    /// The server (with sentinels: the first sentinel, a name for logs; connections go to the master).
    public var host: String
    public var port: Int
    public var username: String?
    public var password: String?
    public var database: Int
    /// The sentinels to ask, in order; empty for a plain server.
    public var sentinels: [Address] = []
    /// The master's name the sentinels monitor (with `sentinels`).
    public var masterName: String?

    public init(host: String, port: Int = 6379, username: String? = nil, password: String? = nil, database: Int = 0) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
    }

    /// A master found through sentinels.
    public init(sentinels: [Address], masterName: String, username: String? = nil, password: String? = nil, database: Int = 0) {
        self.init(host: sentinels.first?.host ?? "", port: sentinels.first?.port ?? 26379, username: username, password: password,
                  database: database)
        self.sentinels = sentinels
        self.masterName = masterName
    }

    public var usesSentinels: Bool { !sentinels.isEmpty }

    /// Parses a `redis://` or `redis-sentinel://` URL; the error says what was expected and what was found.
    public init(parsing text: String) throws(RedisError) {
        let sentinel = text.hasPrefix("redis-sentinel://")
        let expected = sentinel ? "expected redis-sentinel://[:password@]host:port[,host:port…]/master[/db]"
            : "expected redis://[:password@]host:port[/db] or redis-sentinel://host:port[,host:port…]/master[/db]"
        func bad(_ why: String) -> RedisError {
            RedisError(.invalidURL, "\(expected), got '\(RedisURL.redacted(text))': \(why)")
        }
        if text.hasPrefix("redis-cluster://") { throw bad("Redis Cluster is not supported yet (docs/redis-ha.md)") }
        guard sentinel || text.hasPrefix("redis://") else { throw bad("scheme must be redis:// or redis-sentinel://") }
        var rest = Substring(text.dropFirst(sentinel ? "redis-sentinel://".count : "redis://".count))
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
        var path: [Substring] = []
        if let slash = rest.firstIndex(of: "/") {
            path = rest[rest.index(after: slash)...].split(separator: "/", omittingEmptySubsequences: false)
            rest = rest[..<slash]
        }
        var masterName: String?
        if sentinel {
            guard let name = path.first, !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
                throw bad("the master's name is missing or malformed")
            }
            masterName = String(name)
            path.removeFirst()
        }
        var database = 0
        if let db = path.first, !db.isEmpty {
            guard path.count == 1, let n = Int(db), n >= 0, n < 1 << 16 else { throw bad("database must be a number ≥ 0") }
            database = n
        } else if path.count > 1 {
            throw bad("nothing may follow the database")
        }
        func address(_ text: Substring, defaultPort: Int) throws(RedisError) -> Address {
            var host = String(text)
            var port = defaultPort
            if let colon = text.lastIndex(of: ":") {
                host = String(text[..<colon])
                guard let p = Int(text[text.index(after: colon)...]), (1...65535).contains(p) else {
                    throw bad("port must be 1-65535")
                }
                port = p
            }
            if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }  // [IPv6]
            guard !host.isEmpty, !host.contains(where: { $0 == " " || $0 == "?" || $0 == "#" || $0 == "," || $0 == "[" || $0 == "]" }) else {
                throw bad("host is missing or malformed")
            }
            return Address(host: host, port: port)
        }
        if let masterName {
            var sentinels: [Address] = []
            for part in rest.split(separator: ",", omittingEmptySubsequences: false) {
                sentinels.append(try address(part, defaultPort: 26379))
            }
            self.init(sentinels: sentinels, masterName: masterName, username: username, password: password, database: database)
        } else {
            let server = try address(rest, defaultPort: 6379)
            self.init(host: server.host, port: server.port, username: username, password: password, database: database)
        }
    }

    /// The URL with any password masked, for logs and error messages.
    public var description: String {
        let credentials = password == nil ? "" : "\(username ?? ""):***@"
        if let masterName, usesSentinels {
            return "redis-sentinel://\(credentials)\(sentinels.map(\.description).joined(separator: ","))/\(masterName)/\(database)"
        }
        return "redis://\(credentials)\(Address(host: host, port: port))/\(database)"
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
