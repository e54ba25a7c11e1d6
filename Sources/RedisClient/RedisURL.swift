/// Where a Redis server is and how to log in: parsed from `redis://[[user]:password@]host[:port][/db]`,
/// `redis-sentinel://[[user]:password@]host:port[,host:port…]/MASTER[/db]`: the sentinels to ask
/// where the master named MASTER is (the credentials are the master's), or
/// `redis-cluster://[[user]:password@]host:port[,host:port…]`: nodes of a Redis Cluster to ask
/// for its slot map (any of them will do; the rest of the cluster is learnt from the map).
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
    /// A Redis Cluster's nodes to ask for the slot map; empty for a single server.
    public var clusterSeeds: [Address] = []

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

    /// A Redis Cluster, reached through any of `seeds` (database 0, the only one a cluster has).
    public init(clusterSeeds seeds: [Address], username: String? = nil, password: String? = nil) {
        self.init(host: seeds.first?.host ?? "", port: seeds.first?.port ?? 6379, username: username, password: password)
        clusterSeeds = seeds
    }

    public var usesSentinels: Bool { !sentinels.isEmpty }
    public var usesCluster: Bool { !clusterSeeds.isEmpty }

    /// Parses a `redis://` or `redis-sentinel://` URL; the error says what was expected and what was found.
    public init(parsing text: String) throws(RedisError) {
        let sentinel = text.hasPrefix("redis-sentinel://")
        let cluster = text.hasPrefix("redis-cluster://")
        let expected = sentinel ? "expected redis-sentinel://[:password@]host:port[,host:port…]/master[/db]"
            : cluster ? "expected redis-cluster://[:password@]host:port[,host:port…]"
            : "expected redis://[:password@]host:port[/db], redis-sentinel://host:port[,host:port…]/master[/db] "
                + "or redis-cluster://host:port[,host:port…]"
        func bad(_ why: String) -> RedisError {
            RedisError(.invalidURL, "\(expected), got '\(RedisURL.redacted(text))': \(why)")
        }
        guard sentinel || cluster || text.hasPrefix("redis://") else { throw bad("scheme must be redis://, redis-sentinel:// or redis-cluster://") }
        var rest = Substring(text.dropFirst(sentinel ? "redis-sentinel://".count : cluster ? "redis-cluster://".count : "redis://".count))
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
        if cluster, path.contains(where: { !$0.isEmpty && $0 != "0" }) {
            throw bad("a cluster has database 0 only")
        }
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
        if cluster {
            var seeds: [Address] = []
            for part in rest.split(separator: ",", omittingEmptySubsequences: false) {
                seeds.append(try address(part, defaultPort: 6379))
            }
            self.init(clusterSeeds: seeds, username: username, password: password)
        } else if let masterName {
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
        if usesCluster {
            return "redis-cluster://\(credentials)\(clusterSeeds.map(\.description).joined(separator: ","))"
        }
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
