import Foundation
import Settings

/// The address a request came from: the TCP peer, or — when the peer is a trusted proxy — the
/// nearest address in `X-Forwarded-For` that is not itself a trusted proxy. An untrusted peer
/// cannot choose its own rate-limit key by sending the header.
enum ClientAddress {
    static func resolve(peer: String?, forwardedFor: String?, trusted: [NetworkRange]) -> String {
        guard let peer else { return "unknown" }
        guard trusted.contains(where: { $0.contains(peer) }), let forwardedFor else { return peer }
        let hops = forwardedFor.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        for hop in hops.reversed() {
            guard NetworkRange.parseAddress(hop) != nil else { return peer }  // garbage: trust nothing in it
            if !trusted.contains(where: { $0.contains(hop) }) { return hop }
        }
        return hops.first ?? peer
    }
}


extension ClientAddress {
    /// What the per-client limits count: an IPv4 address as it is, an IPv6 address by its /64
    /// (one subscriber's prefix: an attacker rotating through it is still one client).
    static func group(_ address: String) -> String {
        guard let bytes = NetworkRange.parseAddress(address), bytes.count == 16 else { return address }
        let groups = stride(from: 0, to: 8, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
        return groups.joined(separator: ":") + "::/64"
    }
}
