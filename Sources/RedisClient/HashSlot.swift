/// Redis Cluster's key → slot function: CRC16 (XMODEM) of the key, or of its hash tag (the text
/// between the first `{` and the next `}` when that is not empty), modulo 16384. Keys sharing a
/// tag share a slot, which is how every key of a queue (`redial:{queue}:…`) sits on one node.
public enum HashSlot {
    public static let count = 16384

    public static func of(_ key: String) -> Int { of(Array(key.utf8)) }

    public static func of(_ key: [UInt8]) -> Int {
        var hashed = key[...]
        if let open = key.firstIndex(of: UInt8(ascii: "{")),
           let close = key[(open + 1)...].firstIndex(of: UInt8(ascii: "}")), close > open + 1 {
            hashed = key[(open + 1)..<close]
        }
        return Int(crc16(hashed)) & (count - 1)
    }

    /// The slot a command must be sent to, from its first key; nil for a command that names no
    /// key (`TIME`, `WAIT`, `PING`, …): it goes with the keyed command before it in a pipeline.
    /// `SCAN … MATCH pattern` goes to the slot of the pattern's hash tag, where every key it
    /// can match lives (a queue's keys, all on one node).
    static func of(_ command: RedisCommand) -> Int? {
        switch command {
        case .script(_, let keys, _):
            return keys.first.map { of($0) }
        case .command(let arguments):
            guard arguments.count > 1 else { return nil }
            let name = String(decoding: bytes(of: arguments[0]), as: UTF8.self).uppercased()
            switch name {
            case "EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO":
                guard arguments.count > 3, Int(String(decoding: bytes(of: arguments[2]), as: UTF8.self)) ?? 0 > 0 else { return nil }
                return of(bytes(of: arguments[3]))
            case "SCAN":
                guard let match = arguments.indices.first(where: {
                    $0 + 1 < arguments.count && String(decoding: bytes(of: arguments[$0]), as: UTF8.self).uppercased() == "MATCH"
                }) else { return nil }
                let pattern = bytes(of: arguments[match + 1])
                guard let open = pattern.firstIndex(of: UInt8(ascii: "{")),
                      let close = pattern[(open + 1)...].firstIndex(of: UInt8(ascii: "}")), close > open + 1,
                      !pattern[..<close].contains(where: { "*?[\\".utf8.contains($0) }) else { return nil }
                return of(pattern)
            case _ where keyless.contains(name):
                return nil
            default:
                return of(bytes(of: arguments[1]))
            }
        }
    }

    /// Commands whose arguments name no key: they are routed with their pipeline's keyed commands.
    private static let keyless: Set<String> = [
        "PING", "ECHO", "TIME", "WAIT", "WAITAOF", "INFO", "CONFIG", "SCRIPT", "FUNCTION", "ROLE", "CLUSTER", "CLIENT", "DBSIZE",
        "FLUSHDB", "FLUSHALL", "SELECT", "AUTH", "HELLO", "ASKING", "READONLY", "READWRITE", "MULTI", "EXEC", "DISCARD",
        "PUBLISH", "SUBSCRIBE", "UNSUBSCRIBE", "PSUBSCRIBE", "PUNSUBSCRIBE", "COMMAND", "DEBUG", "MEMORY", "SLOWLOG",
        "LATENCY", "SAVE", "BGSAVE", "BGREWRITEAOF", "LASTSAVE", "SHUTDOWN", "MONITOR", "RESET", "QUIT", "SENTINEL",
    ]

    /// An argument's bytes as they go on the wire.
    static func bytes(of argument: any RedisArgument) -> [UInt8] {
        var encoded: [UInt8] = []
        argument.appendBulkString(to: &encoded)
        // `$<length>\r\n<bytes>\r\n`
        guard let lineEnd = encoded.firstIndex(of: 10) else { return [] }
        return Array(encoded[(lineEnd + 1)..<(encoded.count - 2)])
    }

    private static func crc16<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> UInt16 {
        var crc: UInt16 = 0
        for byte in bytes {
            crc = (crc << 8) ^ table[Int((crc >> 8) ^ UInt16(byte)) & 0xFF]
        }
        return crc
    }

    /// CRC16-CCITT (XMODEM): polynomial 0x1021, initial value 0, as Redis Cluster specifies.
    private static let table: [UInt16] = (0..<256).map { index in
        var crc = UInt16(index) << 8
        for _ in 0..<8 { crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1 }
        return crc
    }
}
