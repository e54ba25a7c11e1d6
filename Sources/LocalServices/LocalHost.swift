import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// This machine as the tests, the benchmarks and the chaos suite use it: the repository's root
/// and a free loopback port.
public enum LocalHost {
    /// A TCP port on loopback that nothing listens on right now, for a child process to bind.
    /// Drawn from below the kernel's ephemeral range (32768-60999 here), never the same twice
    /// in one process: a port `bind(0)` picked is in that range, and between our close and the
    /// child's bind the kernel may give it to an outgoing connection as its source port (a
    /// busy test run then saw "Address already in use", or a health check answered by another
    /// test's server). 17000-25999 avoids the fixed ports of the Makefile (15xxx, 16xxx, 26380+).
    public static func freePort() throws -> Int {
        for _ in 0..<200 {
            let port = Int.random(in: 17_000...25_999)
            guard handedOut.withLock({ $0.insert(port).inserted }) else { continue }
            if canBind(port) { return port }
        }
        throw SetupError("no free loopback port in 17000-25999")
    }

    private static let handedOut = Mutex<Set<Int>>([])

    private static func canBind(_ port: Int) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    /// Whether something accepts TCP connections on `host:port` now.
    public static func accepts(_ port: Int, host: String = "127.0.0.1") -> Bool {
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

    /// The repository's root, found from this file's path.
    public static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }
}

/// A local service could not be set up (a missing binary, a server that did not start).
public struct SetupError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
