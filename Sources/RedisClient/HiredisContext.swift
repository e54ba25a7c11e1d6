import CHiredis
#if canImport(Glibc)
import Glibc
#endif

/// Owns one hiredis `redisContext` and frees it; the only place a hiredis pointer exists.
/// Not `Sendable`: it lives inside one `RedisConnection` actor and never leaves it.
final class HiredisContext {
    private let context: UnsafeMutablePointer<redisContext>
    let endpoint: String

    /// Connects with a timeout; the socket timeout then bounds every read and write.
    init(host: String, port: Int, timeout: Duration) throws(RedisError) {
        endpoint = "\(host):\(port)"
        guard let context = redisConnectWithTimeout(host, Int32(port), timeout.timeval) else {
            throw RedisError(.connectionFailed, "cannot allocate a connection to \(endpoint)")
        }
        self.context = context  // from here on, deinit frees it, also when init throws
        if context.pointee.err != 0 {
            let reason = Self.errorText(context)
            throw RedisError(.connectionFailed, "cannot connect to \(endpoint): \(reason)")
        }
        guard redisSetTimeout(context, timeout.timeval) == REDIS_OK else {
            let reason = Self.errorText(context)
            throw RedisError(.connectionFailed, "cannot set timeout on \(endpoint): \(reason)")
        }
        _ = redisEnableKeepAlive(context)
    }

    deinit { redisFree(context) }

    /// True when the socket is still usable: no error recorded and nothing unread on it. A
    /// readable idle socket means the server closed it (EOF) — e.g. it restarted — so the caller
    /// reconnects *before* sending, and no command is left in doubt.
    var isUsable: Bool {
        guard context.pointee.err == 0 else { return false }
        var descriptor = pollfd(fd: context.pointee.fd, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, 0) == 0
    }

    func setTimeout(_ timeout: Duration) {
        _ = redisSetTimeout(context, timeout.timeval)
    }

    /// Sends one command (RESP-encoded) and reads its reply.
    func command(_ formatted: [UInt8]) throws(RedisError) -> RedisValue {
        try append(formatted: formatted)
        return try readReply()
    }

    /// Queues RESP-encoded commands in the output buffer; nothing is sent until a reply is read.
    func append(formatted: [UInt8]) throws(RedisError) {
        let status = formatted.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { redisAppendFormattedCommand(context, $0.baseAddress, $0.count) }
        }
        guard status == REDIS_OK else { throw failure() }
    }

    /// Flushes pending output if needed, then reads one reply.
    func readReply() throws(RedisError) -> RedisValue {
        var raw: UnsafeMutableRawPointer?
        guard redisGetReply(context, &raw) == REDIS_OK, let raw else { throw failure() }
        let reply = raw.assumingMemoryBound(to: redisReply.self)
        defer { freeReplyObject(raw) }
        return Self.value(of: reply)
    }

    private func failure() -> RedisError {
        let text = Self.errorText(context)
        let err = context.pointee.err
        if err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK) {
            return RedisError(.timeout, "no reply from \(endpoint) within the timeout")
        }
        if err == REDIS_ERR_PROTOCOL {
            return RedisError(.unexpectedReply, "protocol error from \(endpoint): \(text)")
        }
        return RedisError(.connectionLost, "connection to \(endpoint) lost: \(text)")
    }

    private static func errorText(_ context: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: context.pointee.errstr) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
    }

    /// A hiredis reply object as a value (the reply stays the caller's to free).
    static func value(of reply: UnsafeMutablePointer<redisReply>) -> RedisValue {
        let r = reply.pointee
        switch r.type {
        case REDIS_REPLY_STRING:
            return .bulk(bytes(r.str, r.len))
        case REDIS_REPLY_STATUS:
            return .status(String(decoding: bytes(r.str, r.len), as: UTF8.self))
        case REDIS_REPLY_ERROR:
            return .error(String(decoding: bytes(r.str, r.len), as: UTF8.self))
        case REDIS_REPLY_INTEGER:
            return .integer(Int64(r.integer))
        case REDIS_REPLY_ARRAY:
            var items: [RedisValue] = []
            items.reserveCapacity(Int(r.elements))
            for i in 0..<Int(r.elements) {
                if let element = r.element[i] { items.append(value(of: element)) }
            }
            return .array(items)
        default:
            return .null
        }
    }

    private static func bytes(_ pointer: UnsafeMutablePointer<CChar>?, _ length: Int) -> [UInt8] {
        guard let pointer, length > 0 else { return [] }
        return pointer.withMemoryRebound(to: UInt8.self, capacity: length) {
            Array(UnsafeBufferPointer(start: $0, count: length))
        }
    }
}

extension Duration {
    var timeval: timeval {
        let (seconds, attoseconds) = components
        return Glibc.timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
    }
}
