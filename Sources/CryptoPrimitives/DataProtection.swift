import Foundation

/// Personal data at rest (phone numbers, names, addresses in Redis payloads and PostgreSQL rows):
/// sealed with AES-256-GCM under a key ring, or replaced by a keyed hash where something must be
/// found by it.
///
/// The ring (`REDIAL_DATA_KEYS` = `id:base64(32 bytes)[,id:…]`): the first key seals, every key
/// opens, so a new key is rolled out by putting it first and an old one is dropped only after
/// `data.reseal` has rewritten what it sealed. A sealed value reads `v1.<key id>.<base64url(nonce ‖
/// ciphertext ‖ tag)>`; the field it belongs to is its associated data, so a sealed value copied
/// into another field (a visitor's number into a manager's) does not open.
public struct DataProtection: Sendable {
    public struct Key: Sendable {
        public let id: String
        let bytes: [UInt8]
    }

    /// Sealing key first, then the keys that still open.
    public let keys: [Key]
    /// The key of lookup hashes (`REDIAL_LOOKUP_KEY`): not rotated, since every stored hash
    /// would change with it.
    let lookupKey: [UInt8]

    public static let format = "v1"

    public init(keys: [Key], lookupKey: [UInt8]) throws(CryptoError) {
        guard !keys.isEmpty else { throw CryptoError(.invalidKey, "the data key ring is empty") }
        guard Set(keys.map(\.id)).count == keys.count else { throw CryptoError(.invalidKey, "a data key id is given twice") }
        self.keys = keys
        self.lookupKey = lookupKey
    }

    /// Parses `id:base64[,id:base64…]`; ids are 1–16 letters, digits, `_` or `-`.
    public init(ring text: String, lookupKey: [UInt8]) throws(CryptoError) {
        var keys: [Key] = []
        for entry in text.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = entry.trimmingCharacters(in: .whitespaces).split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2, Self.isKeyID(parts[0]) else {
                throw CryptoError(.invalidKey, "expected id:base64 with an id of 1-16 letters, digits, _ or -, got '\(entry.prefix(20))…'")
            }
            guard let bytes = Data(base64Encoded: parts[1]), bytes.count == AES256GCM.keyByteCount else {
                throw CryptoError(.invalidKey, "key '\(parts[0])': expected \(AES256GCM.keyByteCount) bytes in base64 (openssl rand -base64 32)")
            }
            keys.append(Key(id: parts[0], bytes: Array(bytes)))
        }
        try self.init(keys: keys, lookupKey: lookupKey)
    }

    static func isKeyID(_ text: String) -> Bool {
        (1...16).contains(text.count) && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }
    }

    /// The id of the key that seals.
    public var sealingKeyID: String { keys[0].id }

    /// Development and tests only: production refuses these (`RedialSettings`).
    public static let developmentRing = "dev:" + Data(Array("redial-development-data-key-0001".utf8)).base64EncodedString()
    public static let developmentLookupKey = "redial-development-lookup-key-not-a-secret"
    public static let development = try! DataProtection(ring: developmentRing, lookupKey: Array(developmentLookupKey.utf8))

    /// Whether a key of the ring is the development one (production refuses it).
    public var holdsDevelopmentKey: Bool {
        keys.contains { key in Self.development.keys.contains { ConstantTime.equal($0.bytes, key.bytes) } }
    }

    public var holdsDevelopmentLookupKey: Bool { ConstantTime.equal(lookupKey, Self.development.lookupKey) }

    /// `text` sealed for `field` under the sealing key.
    public func seal(_ text: String, field: String) throws(CryptoError) -> String {
        let box = try AES256GCM.seal(Array(text.utf8), key: keys[0].bytes, authenticating: Array(field.utf8))
        return "\(Self.format).\(keys[0].id).\(Self.base64URL(box.combined))"
    }

    /// The text of a value sealed for `field` by any key of the ring. A value that is not sealed,
    /// names a key the ring does not hold, or was sealed for another field is an error saying which.
    public func open(_ sealed: String, field: String) throws(CryptoError) -> String {
        let parts = sealed.split(separator: ".", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == Self.format else {
            throw CryptoError(.authenticationFailed, "\(field): not a sealed value")
        }
        guard let key = keys.first(where: { $0.id == parts[1] }) else {
            throw CryptoError(.invalidKey, "\(field): sealed under key '\(parts[1].prefix(16))', which REDIAL_DATA_KEYS does not hold")
        }
        guard let combined = Self.bytes(base64URL: parts[2]) else {
            throw CryptoError(.authenticationFailed, "\(field): the sealed value is not base64url")
        }
        let plain = try AES256GCM.open(try AES256GCM.SealedBox(combined: combined), key: key.bytes, authenticating: Array(field.utf8))
        guard let text = String(validating: plain, as: UTF8.self) else {
            throw CryptoError(.authenticationFailed, "\(field): the opened value is not UTF-8")
        }
        return text
    }

    /// The key id a sealed value names; nil for a value that is not sealed (a row written before
    /// sealing existed).
    public static func keyID(of value: String) -> String? {
        let parts = value.split(separator: ".", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == format else { return nil }
        return String(parts[1])
    }

    /// Whether `value` must be sealed again: not sealed yet, or sealed under a key other than the
    /// sealing one.
    public func needsResealing(_ value: String) -> Bool { Self.keyID(of: value) != sealingKeyID }

    /// `value` opened and sealed again under the sealing key; a value not sealed yet is sealed.
    public func reseal(_ value: String, field: String) throws(CryptoError) -> String {
        try seal(Self.keyID(of: value) == nil ? value : open(value, field: field), field: field)
    }

    /// What stands for `text` where it must be found (a number's active callback, the limiter's
    /// counts, a recipient's effect key): HMAC-SHA256 under the lookup key, 128 bits in hex. The
    /// same for every process with that key; a dump does not give the text back.
    public func lookup(_ text: String) -> String {
        String(HMACSHA256.authenticate(Array(text.utf8), key: lookupKey).hexString.prefix(32))
    }

    private static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    private static func bytes(base64URL text: Substring) -> [UInt8]? {
        var standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        standard += String(repeating: "=", count: (4 - standard.count % 4) % 4)
        return Data(base64Encoded: standard).map(Array.init)
    }
}
