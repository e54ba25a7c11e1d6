import CryptoPrimitives
import Foundation

/// One `.lua` file of Redial's: its source, with each `-- @include <name>` line replaced by the
/// shared fragment of that name (BullMQ's way of sharing Lua), and the names of its KEYS in
/// order, as its header declares them (a test holds the two together).
public struct LuaScript: Sendable {
    public let script: RedisScript
    public let keyNames: [String]

    public init(_ name: String, _ bytes: [UInt8], keys: [String]) {
        let source = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map { line in
            guard line.hasPrefix(Self.includeMarker) else { return String(line) }
            let fragment = line.dropFirst(Self.includeMarker.count).trimmingCharacters(in: .whitespaces)
            guard let text = Self.fragments[fragment] else { preconditionFailure("\(name).lua includes unknown fragment '\(fragment)'") }
            return text.hasSuffix("\n") ? String(text.dropLast()) : text
        }.joined(separator: "\n")
        script = RedisScript(name: name, source: source)
        keyNames = keys
    }

    static let includeMarker = "-- @include "

    /// The shared fragments, by name (`Scripts/<name>.lua`).
    public static let fragments: [String: String] = [
        "serverTime": String(decoding: PackageResources.serverTime_lua, as: UTF8.self),
    ]

    /// A call of this script with `keys` given in the header's order.
    public func command(keys: [String], arguments: [any RedisArgument]) -> RedisCommand {
        precondition(keys.count == keyNames.count, "\(script.name) takes \(keyNames.count) keys, got \(keys.count)")
        return .script(script, keys: keys, arguments: arguments)
    }
}

/// A version of a set of scripts: a digest of every script's name and source, so two builds
/// whose scripts differ in any byte never share one Redis unnoticed.
public enum ScriptSet {
    public static func version(of scripts: [LuaScript]) -> String {
        let sources = scripts.map { $0.script.name + "\n" + $0.script.source }.joined(separator: "\n")
        return String(SHA256.hash(Array(sources.utf8)).hexString.prefix(16))
    }
}
