import Foundation
import LocalServices

/// A CA made for a test, a server certificate it signed for `names` (`DNS:localhost`), and
/// another CA that signed nothing: what TLS tests verify against (openssl CLI).
public struct TestCertificates: Sendable {
    public let caFile: String
    public let strangerCAFile: String
    public let certificateFile: String
    public let keyFile: String

    public init(in directory: URL, names: String) async throws {
        let path = directory.path
        caFile = path + "/ca.crt"
        strangerCAFile = path + "/stranger.crt"
        certificateFile = path + "/server.crt"
        keyFile = path + "/server.key"
        try "subjectAltName=\(names)\n".write(toFile: path + "/san.ext", atomically: true, encoding: .utf8)
        for step in [
            ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", path + "/ca.key", "-out", caFile, "-days", "2", "-subj", "/CN=redial-test-ca"],
            ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", path + "/stranger.key", "-out", strangerCAFile, "-days", "2",
             "-subj", "/CN=redial-stranger-ca"],
            ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", keyFile, "-out", path + "/server.csr", "-subj", "/CN=redial-test-server"],
            ["x509", "-req", "-in", path + "/server.csr", "-CA", caFile, "-CAkey", path + "/ca.key", "-CAcreateserial",
             "-out", certificateFile, "-days", "2", "-extfile", path + "/san.ext"],
        ] {
            try await Self.run("/usr/bin/openssl", step)
        }
    }

    /// Runs a setup command to its end (60 s at most); its output is the error when it fails.
    public static func run(_ executable: String, _ arguments: [String]) async throws {
        let process = try ChildProcess(executable, arguments, logName: "setup-\(UInt32.random(in: 0...UInt32.max))")
        guard await process.waitForExit(timeout: .seconds(60)) == 0 else {
            process.stop()
            throw SetupError("\(executable) \(arguments.prefix(3).joined(separator: " ")) failed: \(process.log.suffix(800))")
        }
    }
}
