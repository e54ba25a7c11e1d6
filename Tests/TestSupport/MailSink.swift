import Foundation

/// A real SMTP server for tests: aiosmtpd (PyPI) storing every message in a maildir of the
/// test's own. `make deps` installs aiosmtpd.
public final class MailSink: @unchecked Sendable {
    // @unchecked: immutable after init; ChildProcess is thread-safe.
    public let port: Int
    public let directory: URL
    private let server: ChildProcess

    public init() async throws {
        port = try TestServices.freePort()
        directory = TestServices.repositoryRoot.appendingPathComponent(".run/test-mail/\(port)")
        try? FileManager.default.removeItem(at: directory)
        try FileManager.default.createDirectory(at: directory.deletingLastPathComponent(), withIntermediateDirectories: true)
        server = try ChildProcess("/usr/bin/env", ["python3", "-m", "aiosmtpd", "-n", "-l", "127.0.0.1:\(port)",
                                                   "-c", "aiosmtpd.handlers.Mailbox", directory.path], logName: "smtp-\(port)")
        let port = self.port
        guard try await eventually(timeout: .seconds(15), { Self.accepts(port) }) else {
            throw TestSetupError("aiosmtpd did not start (run make deps): \(server.log)")
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

    static func accepts(_ port: Int, host: String = "127.0.0.1") -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr(host)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}
