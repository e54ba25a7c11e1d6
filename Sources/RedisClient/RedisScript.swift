/// A Lua script run with EVALSHA; loaded on first use per connection and reloaded on NOSCRIPT.
public struct RedisScript: Sendable, Hashable {
    /// A short name for logs and errors, usually the `.lua` file's name.
    public let name: String
    public let source: String

    public init(name: String, source: String) {
        self.name = name
        self.source = source
    }
}

/// One command of a pipeline: plain, or a script call.
public enum RedisCommand: Sendable {
    case command([any RedisArgument])
    case script(RedisScript, keys: [String], arguments: [any RedisArgument])

    public static func make(_ arguments: any RedisArgument...) -> RedisCommand { .command(arguments) }
}
