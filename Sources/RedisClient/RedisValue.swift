/// One reply from Redis (RESP2), copied out of hiredis so no C memory outlives the call.
public enum RedisValue: Sendable, Hashable {
    case null
    case status(String)
    case integer(Int64)
    case bulk([UInt8])
    case array([RedisValue])
    case error(String)

    /// Bulk or status replies as UTF-8 text; integers in decimal.
    public var string: String? {
        switch self {
        case .bulk(let bytes): String(decoding: bytes, as: UTF8.self)
        case .status(let text): text
        case .integer(let n): String(n)
        default: nil
        }
    }

    /// Integer replies, or bulk replies holding a decimal integer.
    public var int: Int? {
        switch self {
        case .integer(let n): Int(n)
        case .bulk, .status: string.flatMap { Int($0) }
        default: nil
        }
    }

    public var bytes: [UInt8]? {
        switch self {
        case .bulk(let bytes): bytes
        case .status(let text): Array(text.utf8)
        default: nil
        }
    }

    public var array: [RedisValue]? {
        if case .array(let items) = self { return items }
        return nil
    }

    public var isNull: Bool { self == .null }

    /// The reply as a success, or the server error it carries.
    public func get() throws(RedisError) -> RedisValue {
        if case .error(let message) = self { throw RedisError(.server, message) }
        return self
    }
}
