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

