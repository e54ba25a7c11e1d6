#if canImport(Glibc)
import Glibc
#endif

/// Where an outgoing request to a URL that came from outside (a provider's recording link) may
/// go. A host name is resolved here, checked, and the checked address pinned for the transfer
/// (`HTTPClientRequest.pinnedAddress`), so DNS cannot answer one address to the check and
/// another to the connection.
public enum OutboundAddress {
    /// The addresses `host` resolves to, as text (IPv4 dotted, IPv6 colon form). `getaddrinfo`
    /// blocks (seconds, when DNS is slow), so it runs off the caller's thread.
    public static func resolve(_ host: String) async throws(HTTPClientError) -> [String] {
        try await offThread { () throws(HTTPClientError) in try resolveBlocking(host) }
    }

    private static func resolveBlocking(_ host: String) throws(HTTPClientError) -> [String] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &list)
        guard status == 0, let first = list else {
            throw HTTPClientError(.connectionFailed, "cannot resolve \(host): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(first) }
        var addresses: [String] = []
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let current = entry {
            var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            if let address = current.pointee.ai_addr {
                switch Int32(address.pointee.sa_family) {
                case AF_INET:
                    address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { inet in
                        var raw = inet.pointee.sin_addr
                        _ = inet_ntop(AF_INET, &raw, &text, socklen_t(text.count))
                    }
                case AF_INET6:
                    address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { inet in
                        var raw = inet.pointee.sin6_addr
                        _ = inet_ntop(AF_INET6, &raw, &text, socklen_t(text.count))
                    }
                default: break
                }
            }
            let value = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if !value.isEmpty && !addresses.contains(value) { addresses.append(value) }
            entry = current.pointee.ai_next
        }
        return addresses
    }

    /// The bytes of an IP address literal (4 or 16), or nil when it is not one.
    public static func bytes(_ address: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, address, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, address, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }

    /// Whether the address is on the public internet: not unspecified, loopback, private
    /// (RFC 1918, IPv6 unique local), carrier-grade NAT, link-local (cloud metadata services
    /// live there), multicast or reserved. IPv4-mapped IPv6 addresses are judged as IPv4.
    public static func isPublic(_ address: String) -> Bool {
        guard var bytes = bytes(address) else { return false }
        if bytes.count == 16, bytes.prefix(10).allSatisfy({ $0 == 0 }), bytes[10] == 0xff, bytes[11] == 0xff {
            bytes = Array(bytes.suffix(4))
        }
        if bytes.count == 4 {
            let (a, b) = (bytes[0], bytes[1])
            return !(a == 0 || a == 10 || a == 127 || a >= 224
                || (a == 100 && (64...127).contains(b)) || (a == 169 && b == 254)
                || (a == 172 && (16...31).contains(b)) || (a == 192 && b == 168)
                || (a == 192 && b == 0 && bytes[2] == 0) || (a == 198 && (18...19).contains(b)))
        }
        let unspecifiedOrLoopback = bytes.prefix(15).allSatisfy { $0 == 0 } && bytes[15] <= 1
        let uniqueLocal = bytes[0] & 0xfe == 0xfc
        let linkLocal = bytes[0] == 0xfe && bytes[1] & 0xc0 == 0x80
        let multicast = bytes[0] == 0xff
        return !(unspecifiedOrLoopback || uniqueLocal || linkLocal || multicast)
    }
}
