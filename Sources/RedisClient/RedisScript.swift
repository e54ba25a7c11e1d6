import CryptoPrimitives

/// A Lua script run with EVALSHA by its SHA-1 (computed here, as Redis does); loaded with
/// SCRIPT LOAD only when the server answers NOSCRIPT.
public struct RedisScript: Sendable, Hashable {
    /// A short name for logs and errors, usually the `.lua` file's name.
    public let name: String
    public let source: String
    /// Hex SHA-1 of the source: the name Redis's script cache knows it by.
    public let sha1: String

    public init(name: String, source: String) {
        self.name = name
        self.source = source
        sha1 = SHA1.hash(Array(source.utf8)).hexString
    }
}

/// One command of a pipeline: plain, or a script call.
public enum RedisCommand: Sendable {
    case command([any RedisArgument])
    case script(RedisScript, keys: [String], arguments: [any RedisArgument])

    public static func make(_ arguments: any RedisArgument...) -> RedisCommand { .command(arguments) }

    /// Redis Cluster's `ASKING`: the next command may touch a slot this master is importing.
    static let asking = RedisCommand.command(["ASKING"])

    var isAsking: Bool {
        if case .command(let arguments) = self, arguments.count == 1, let name = arguments[0] as? String { return name == "ASKING" }
        return false
    }
}
