import Foundation
import NIOCore
import NIOPosix
import Settings

/// Asks a SIP trunk whether it is there: an OPTIONS over UDP, sent again after T1 = 500 ms and
/// doubling (RFC 3261's timer A) until the probe's timeout; provisional (1xx) answers are waited
/// past; a final answer with a code the trunk is configured to accept is up.
struct SIPOptionsProbe: Probe {
    let trunk: SIPTrunk
    let accept: Set<Int>
    static let t1: Duration = .milliseconds(500)

    func check(timeout: Duration) async -> ProbeResult {
        do {
            let address = try SocketAddress.makeAddressResolvingHost(trunk.host, port: trunk.port)
            let channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .bind(host: address.protocol == .inet6 ? "::1" : "127.0.0.1", port: 0) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try NIOAsyncChannel<AddressedEnvelope<ByteBuffer>, AddressedEnvelope<ByteBuffer>>(wrappingChannelSynchronously: channel)
                    }
                }
            let localPort = channel.channel.localAddress?.port ?? 0
            let request = SIPOptions(requestURI: trunk.uri, localHost: address.protocol == .inet6 ? "[::1]" : "127.0.0.1", localPort: localPort)
            let code: Int? = try await channel.executeThenClose { inbound, outbound in
                try await withThrowingTaskGroup(of: Int?.self) { group in
                    group.addTask {
                        // Timer A: retransmit after T1, 2·T1, 4·T1 … until the answer or the timeout.
                        var wait = Self.t1
                        let deadline = ContinuousClock.now + timeout
                        while ContinuousClock.now < deadline {
                            try await outbound.write(AddressedEnvelope(remoteAddress: address, data: ByteBuffer(string: request.text)))
                            try await Task.sleep(for: min(wait, deadline - ContinuousClock.now))
                            wait *= 2
                        }
                        return nil
                    }
                    group.addTask {
                        for try await envelope in inbound {
                            guard let code = request.status(of: String(buffer: envelope.data)) else { continue }
                            if code >= 200 { return code }
                        }
                        return nil
                    }
                    let first = try await group.next() ?? nil
                    group.cancelAll()
                    return first
                }
            }
            guard let code else { return .failure("no answer to OPTIONS within \(timeout)") }
            return accept.contains(code) || (200..<300).contains(code) ? .success("\(code)") : .failure("answered \(code)")
        } catch {
            return .failure("\(error)")
        }
    }
}
