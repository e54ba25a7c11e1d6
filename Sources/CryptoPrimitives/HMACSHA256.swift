import COpenSSL

/// HMAC-SHA256 (RFC 2104), used to sign and verify webhooks.
public enum HMACSHA256 {
    public static let byteCount = 32

    public static func authenticate(_ message: [UInt8], key: [UInt8]) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        key.withUnsafeBufferPointer { keyBuffer in
            message.withUnsafeBufferPointer { messageBuffer in
                _ = HMAC(EVP_sha256(), keyBuffer.baseAddress, Int32(key.count),
                         messageBuffer.baseAddress, message.count, &output, &length)
            }
        }
        return Array(output.prefix(Int(length)))
    }

    /// Recomputes the MAC and compares in constant time.
    public static func verify(_ mac: [UInt8], message: [UInt8], key: [UInt8]) -> Bool {
        ConstantTime.equal(authenticate(message, key: key), mac)
    }
}

public enum SHA256 {
    public static func hash(_ data: [UInt8]) -> [UInt8] { digest(data, EVP_sha256()) }
}

/// SHA-1, only where a protocol names it (Redis identifies scripts by their SHA-1); never for security.
public enum SHA1 {
    public static func hash(_ data: [UInt8]) -> [UInt8] { digest(data, EVP_sha1()) }
}

/// MD5, only where a protocol names it (S3's Content-MD5 and ETag); never for security.
public enum MD5 {
    public static func hash(_ data: [UInt8]) -> [UInt8] { digest(data, EVP_md5()) }
}

private func digest(_ data: [UInt8], _ algorithm: OpaquePointer?) -> [UInt8] {
    var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
    var length: UInt32 = 0
    data.withUnsafeBufferPointer { buffer in
        _ = EVP_Digest(buffer.baseAddress, buffer.count, &output, &length, algorithm, nil)
    }
    return Array(output.prefix(Int(length)))
}

public enum ConstantTime {
    /// Equal contents, compared in time that depends only on the length, never on where the
    /// first difference is (a timing oracle would let an attacker forge a MAC byte by byte).
    public static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        if a.isEmpty { return true }
        return a.withUnsafeBytes { x in b.withUnsafeBytes { y in CRYPTO_memcmp(x.baseAddress, y.baseAddress, a.count) == 0 } }
    }
}
