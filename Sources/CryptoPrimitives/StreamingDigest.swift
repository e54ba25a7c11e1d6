import COpenSSL

/// A hash fed in pieces, for data too large to hold at once (a call recording streamed to
/// disk). Owns its OpenSSL context and frees it. Not `Sendable`: used by one task at a time.
public final class StreamingDigest {
    public enum Algorithm: Sendable {
        case sha256, md5
    }

    private let context: OpaquePointer

    public init(_ algorithm: Algorithm) {
        context = EVP_MD_CTX_new()
        _ = EVP_DigestInit_ex(context, algorithm == .sha256 ? EVP_sha256() : EVP_md5(), nil)
    }

    deinit { EVP_MD_CTX_free(context) }

    public func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    public func update(_ buffer: UnsafeRawBufferPointer) {
        _ = EVP_DigestUpdate(context, buffer.baseAddress, buffer.count)
    }

    /// The digest of everything fed so far; the digest cannot be fed after this.
    public func finish() -> [UInt8] {
        var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        _ = EVP_DigestFinal_ex(context, &output, &length)
        return Array(output.prefix(Int(length)))
    }
}
