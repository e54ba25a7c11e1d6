/// A cryptographic operation that could not be completed. `authenticationFailed` is the only one
/// an attacker can cause; the others mean misuse or a broken library.
public struct CryptoError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case invalidKey = "invalid_key"
        case invalidNonce = "invalid_nonce"
        /// The tag did not match: the ciphertext, its associated data or the key is wrong.
        case authenticationFailed = "authentication_failed"
        case library
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "crypto \(code.rawValue): \(message)" }
}
