import Foundation
import LocalServices

/// A real SMTP server for tests: aiosmtpd (PyPI) storing every message in a maildir of the
/// test's own. `make deps` installs aiosmtpd.
public final class MailSink: @unchecked Sendable {
    // @unchecked: immutable after init; ChildProcess is thread-safe.
    public let port: Int
    public let directory: URL
    private let server: ChildProcess

    public init() async throws {
        port = try LocalHost.freePort()
        directory = LocalHost.repositoryRoot.appendingPathComponent(".run/test-mail/\(port)")
        try? FileManager.default.removeItem(at: directory)
        try FileManager.default.createDirectory(at: directory.deletingLastPathComponent(), withIntermediateDirectories: true)
        server = try ChildProcess("/usr/bin/env", ["python3", "-m", "aiosmtpd", "-n", "-l", "127.0.0.1:\(port)",
                                                   "-c", "aiosmtpd.handlers.Mailbox", directory.path], logName: "smtp-\(port)")
        let port = self.port
        guard try await eventually(timeout: .seconds(15), { LocalHost.accepts(port) }) else {
            throw SetupError("aiosmtpd did not start (run make deps): \(server.log)")
        }
    }

    public var url: String { "smtp://127.0.0.1:\(port)" }

    /// Every message received so far, raw.
    public func messages() throws -> [String] {
        let folder = directory.appendingPathComponent("new")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return try names.sorted().map { try String(contentsOf: folder.appendingPathComponent($0), encoding: .utf8) }
    }

    public func stop() { server.stop() }  // SIGKILL: aiosmtpd does not always exit on SIGTERM
}
