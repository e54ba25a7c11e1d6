import CHiredis

/// hiredis's RESP reader over bytes already in hand, turning replies into values exactly as a
/// connection does: what the reply fuzzer drives (a server's bytes are input like any other).
public enum RedisReplyReader {
    /// Every complete reply in `bytes`, in order (an incomplete last one is left unread); bytes
    /// that are not RESP throw.
    public static func replies(in bytes: [UInt8]) throws(RedisError) -> [RedisValue] {
        guard let reader = redisReaderCreate() else { throw RedisError(.unexpectedReply, "cannot allocate a RESP reader") }
        defer { redisReaderFree(reader) }
        let fed = bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { redisReaderFeed(reader, $0.baseAddress, $0.count) }
        }
        guard fed == REDIS_OK else { throw error(reader) }
        var values: [RedisValue] = []
        while true {
            var raw: UnsafeMutableRawPointer?
            guard redisReaderGetReply(reader, &raw) == REDIS_OK else { throw error(reader) }
            guard let raw else { return values }
            values.append(HiredisContext.value(of: raw.assumingMemoryBound(to: redisReply.self)))
            freeReplyObject(raw)
        }
    }

    private static func error(_ reader: UnsafeMutablePointer<redisReader>) -> RedisError {
        let text = withUnsafeBytes(of: reader.pointee.errstr) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        return RedisError(.unexpectedReply, "not a RESP reply: \(text)")
    }
}
