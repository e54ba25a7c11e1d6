import Foundation
import LocalServices

/// A PostgreSQL server of a test's own that speaks TLS only, with a certificate from a CA made
/// for it (openssl) naming `names` (e.g. `DNS:localhost`), on a free loopback port. Run as the
/// `postgres` user when the tests run as root (`setpriv`, so the process stopped is the server
/// itself); stopped by `stop()` and on deinit.
public final class PrivatePostgres: @unchecked Sendable {
    // @unchecked: set once in init; `server` is only stopped afterwards.
    public let port: Int
    public let directory: URL
    /// The CA that signed the server's certificate (for `sslrootcert`).
    public let caFile: String
    /// Another CA, which signed nothing this server shows.
    public let strangerCAFile: String
    private var server: ChildProcess?

    public init(names: String = "DNS:localhost") async throws {
        port = try LocalHost.freePort()
        directory = URL(fileURLWithPath: "/var/tmp/redial-test-pg-\(port)")
        try? FileManager.default.removeItem(at: directory)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.path
        let certificates = try await TestCertificates(in: directory, names: names)
        caFile = certificates.caFile
        strangerCAFile = certificates.strangerCAFile
        let binaries = try FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql").sorted().last.map { "/usr/lib/postgresql/\($0)/bin" }
        guard let binaries else { throw SetupError("PostgreSQL is not installed under /usr/lib/postgresql: run `make deps`") }
        let root = getuid() == 0
        if root { try await TestCertificates.run("/bin/chown", ["-R", "postgres:postgres", path]) }
        try await TestCertificates.run("/bin/chmod", ["600", path + "/server.key"])
        func asServerUser(_ command: [String]) -> (String, [String]) {
            root ? ("/usr/bin/setpriv", ["--reuid", "postgres", "--regid", "postgres", "--init-groups", "--"] + command) : (command[0], Array(command.dropFirst()))
        }
        let initdb = asServerUser([binaries + "/initdb", "-D", path + "/data", "-U", "redial", "--auth=trust", "-E", "UTF8", "--no-locale"])
        try await TestCertificates.run(initdb.0, initdb.1)
        // TLS only: a plain connection is refused by pg_hba, not just not offered.
        try "hostssl all all 127.0.0.1/32 trust\nhostssl all all ::1/128 trust\n".write(toFile: path + "/data/pg_hba.conf", atomically: true, encoding: .utf8)
        if root { try await TestCertificates.run("/bin/chown", ["postgres:postgres", path + "/data/pg_hba.conf"]) }
        let start = asServerUser([binaries + "/postgres", "-D", path + "/data", "-p", String(port), "-c", "listen_addresses=127.0.0.1",
                                  "-c", "unix_socket_directories=", "-c", "fsync=off", "-c", "ssl=on",
                                  "-c", "ssl_cert_file=\(path)/server.crt", "-c", "ssl_key_file=\(path)/server.key"])
        server = try ChildProcess(start.0, start.1, logName: "postgres-tls-\(port)")
        let up = try await eventually(timeout: .seconds(30), every: .milliseconds(100)) {
            self.server?.log.contains("ready to accept connections") == true
        }
        guard up else { throw SetupError("private PostgreSQL on \(port) did not start: \(server?.log ?? "")") }
    }

    /// `postgres://redial@<host>:<port>/postgres` with `query` (e.g. `sslmode=verify-full&sslrootcert=…`).
    public func url(host: String = "localhost", query: String) -> String {
        "postgres://redial@\(host):\(port)/postgres?\(query)"
    }

    public func stop() {
        server?.stop(signal: SIGTERM)
        server = nil
        try? FileManager.default.removeItem(at: directory)
    }

    deinit { stop() }
}
