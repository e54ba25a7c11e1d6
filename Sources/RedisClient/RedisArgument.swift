/// Anything that can be one argument of a Redis command, sent binary-safe.
public protocol RedisArgument: Sendable {
    /// Appends the argument to a command being encoded, as one RESP bulk string
    /// (`$<length>\r\n<bytes>\r\n`): straight into the command's buffer, so a command of
    /// thousands of arguments (a batch of enqueues) is one allocation, not one per argument.
    func appendBulkString(to command: inout [UInt8])
}

extension String: RedisArgument {
    public func appendBulkString(to command: inout [UInt8]) { command.appendBulkString(utf8) }
}

extension Substring: RedisArgument {
    public func appendBulkString(to command: inout [UInt8]) { command.appendBulkString(utf8) }
}

// Integers and doubles as decimal text; a number's text fits Swift's inline small string.
extension Int: RedisArgument {
    public func appendBulkString(to command: inout [UInt8]) { command.appendBulkString(String(self).utf8) }
}

extension Int64: RedisArgument {
    public func appendBulkString(to command: inout [UInt8]) { command.appendBulkString(String(self).utf8) }
}

extension Double: RedisArgument {
    public func appendBulkString(to command: inout [UInt8]) { command.appendBulkString(String(self).utf8) }
}

extension Array: RedisArgument where Element == UInt8 {
    public func appendBulkString(to command: inout [UInt8]) { command.appendBulkString(self) }
}

extension [UInt8] {
    /// RESP: `*<count>\r\n`, the header of a command of `count` arguments.
    mutating func appendArrayHeader(_ count: Int) {
        append(UInt8(ascii: "*"))
        append(contentsOf: String(count).utf8)
        append(13)
        append(10)
    }

    /// RESP: `$<length>\r\n<bytes>\r\n`.
    mutating func appendBulkString<Bytes: Collection<UInt8>>(_ bytes: Bytes) {
        append(UInt8(ascii: "$"))
        append(contentsOf: String(bytes.count).utf8)
        append(13)
        append(10)
        append(contentsOf: bytes)
        append(13)
        append(10)
    }
}
