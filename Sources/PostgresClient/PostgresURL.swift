import Foundation

/// Where a PostgreSQL server is, and how to trust it: parsed from
/// `postgres://user[:password]@host[:port]/database[?sslmode=verify-full&sslrootcert=/path/ca.crt]`.
public struct PostgresURL: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String
    /// libpq's TLS settings from the URL's query: `sslmode` (disable … verify-full), `sslrootcert`
    /// (the CA to verify the server with), `sslcert` and `sslkey` (a client certificate).
    public var tls: [String: String]

    /// The query parameters a URL may carry, all passed to libpq as they are.
    public static let tlsParameters: Set<String> = ["sslmode", "sslrootcert", "sslcert", "sslkey"]
    static let sslModes: Set<String> = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]

    public init(host: String, port: Int = 5432, user: String, password: String? = nil, database: String, tls: [String: String] = [:]) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
        self.tls = tls
    }

    public init(parsing text: String) throws(PostgresError) {
        let expected = "expected postgres://user[:pw]@host:port/db"
        func bad(_ why: String) -> PostgresError {
            PostgresError(.invalidURL, "\(expected), got '\(PostgresURL.redacted(text))': \(why)")
        }
        guard let schemeEnd = text.firstRange(of: "://"),
              ["postgres", "postgresql"].contains(text[..<schemeEnd.lowerBound]) else {
            throw bad("scheme must be postgres://")
        }
        var rest = text[schemeEnd.upperBound...]
        var tls: [String: String] = [:]
        if let query = rest.firstIndex(of: "?") {
            for pair in rest[rest.index(after: query)...].split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? String($0) }
                guard parts.count == 2, Self.tlsParameters.contains(parts[0]), !parts[1].isEmpty else {
                    throw bad("parameters may be \(Self.tlsParameters.sorted().joined(separator: ", ")), each with a value; got '\(pair.prefix(40))'")
                }
                tls[parts[0]] = parts[1]
            }
            if let mode = tls["sslmode"], !Self.sslModes.contains(mode) {
                throw bad("sslmode must be one of \(Self.sslModes.sorted().joined(separator: ", "))")
            }
            rest = rest[..<query]
        }
        guard let at = rest.lastIndex(of: "@") else { throw bad("user is missing") }
        let credentials = rest[..<at]
        rest = rest[rest.index(after: at)...]
        var user = String(credentials)
        var password: String?
        if let colon = credentials.firstIndex(of: ":") {
            user = String(credentials[..<colon])
            password = String(credentials[credentials.index(after: colon)...])
        }
        guard !user.isEmpty else { throw bad("user is missing") }
        guard let slash = rest.firstIndex(of: "/") else { throw bad("database is missing") }
        let database = String(rest[rest.index(after: slash)...])
        guard !database.isEmpty, !database.contains("/") else { throw bad("database is missing") }
        rest = rest[..<slash]
        var host = String(rest)
        var port = 5432
        if let colon = rest.lastIndex(of: ":") {
            host = String(rest[..<colon])
            guard let p = Int(rest[rest.index(after: colon)...]), (1...65535).contains(p) else {
                throw bad("port must be 1-65535")
            }
            port = p
        }
        guard !host.isEmpty, !host.contains(" ") else { throw bad("host is missing or malformed") }
        self.init(host: host, port: port, user: user, password: password, database: database, tls: tls)
    }

    /// libpq's keyword/value form, every value quoted so nothing in it can inject a keyword.
    /// `deadPeerTimeout`: the bound on unacknowledged data (`tcp_user_timeout`) and, split into
    /// an idle time and three probes, on a silent connection (TCP keepalives).
    func connectionString(connectTimeout: Duration, deadPeerTimeout: Duration = .seconds(10), applicationName: String) -> String {
        let dead = max(3, deadPeerTimeout.components.seconds)
        var pairs = [
            ("host", host), ("port", String(port)), ("user", user), ("dbname", database),
            ("connect_timeout", String(max(1, connectTimeout.components.seconds))),
            ("application_name", applicationName),
            ("tcp_user_timeout", String(dead * 1000)),
            ("keepalives", "1"), ("keepalives_idle", String(max(1, dead / 2))),
            ("keepalives_interval", String(max(1, dead / 6))), ("keepalives_count", "3"),
        ]
        if let password { pairs.append(("password", password)) }
        pairs += tls.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        return pairs.map { key, value in
            let escaped = value.replacingAll("\\", with: "\\\\").replacingAll("'", with: "\\'")
            return "\(key)='\(escaped)'"
        }.joined(separator: " ")
    }

    public var description: String {
        let query = tls.isEmpty ? "" : "?" + tls.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "&")
        return "postgres://\(user)\(password == nil ? "" : ":***")@\(host):\(port)/\(database)" + query
    }

    static func redacted(_ text: String) -> String {
        guard let start = text.firstRange(of: "://")?.upperBound, let at = text.lastIndex(of: "@"), start < at,
              let colon = text[start..<at].firstIndex(of: ":") else { return text }
        return text[..<colon] + ":***" + text[at...]
    }
}

extension String {
    fileprivate func replacingAll(_ target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
