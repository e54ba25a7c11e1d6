import COpenSSL

/// AES-256-GCM authenticated encryption, for secrets at rest (provider tokens, site keys).
public enum AES256GCM {
    public static let keyByteCount = 32
    public static let nonceByteCount = 12
    public static let tagByteCount = 16

    public struct SealedBox: Sendable, Hashable {
        public let nonce: [UInt8]
        public let ciphertext: [UInt8]
        public let tag: [UInt8]

        public init(nonce: [UInt8], ciphertext: [UInt8], tag: [UInt8]) {
            self.nonce = nonce
            self.ciphertext = ciphertext
            self.tag = tag
        }

        /// nonce ‖ ciphertext ‖ tag, the form to store.
        public var combined: [UInt8] { nonce + ciphertext + tag }

        public init(combined: [UInt8]) throws(CryptoError) {
            guard combined.count >= AES256GCM.nonceByteCount + AES256GCM.tagByteCount else {
                throw CryptoError(.authenticationFailed, "sealed box of \(combined.count) bytes is too short")
            }
            nonce = Array(combined.prefix(AES256GCM.nonceByteCount))
            tag = Array(combined.suffix(AES256GCM.tagByteCount))
            ciphertext = Array(combined.dropFirst(AES256GCM.nonceByteCount).dropLast(AES256GCM.tagByteCount))
        }
    }

    /// Encrypts with a fresh random nonce unless one is given (tests use fixed vectors; callers
    /// must never reuse a nonce with the same key).
    public static func seal(_ plaintext: [UInt8], key: [UInt8], nonce givenNonce: [UInt8]? = nil,
                            authenticating aad: [UInt8] = []) throws(CryptoError) -> SealedBox {
        let nonce: [UInt8]
        if let given = givenNonce { nonce = given } else { nonce = try SecureRandom.bytes(nonceByteCount) }
        try check(key: key, nonce: nonce)
        let cipher = try Cipher(encrypting: true, key: key, nonce: nonce)
        try cipher.update(aad: aad)
        var ciphertext = try cipher.update(plaintext)
        ciphertext += try cipher.finish()
        var tag = [UInt8](repeating: 0, count: tagByteCount)
        guard EVP_CIPHER_CTX_ctrl(cipher.context, EVP_CTRL_GCM_GET_TAG, Int32(tagByteCount), &tag) == 1 else {
            throw CryptoError(.library, "could not read the GCM tag")
        }
        return SealedBox(nonce: nonce, ciphertext: ciphertext, tag: tag)
    }

    public static func open(_ box: SealedBox, key: [UInt8], authenticating aad: [UInt8] = []) throws(CryptoError) -> [UInt8] {
        try check(key: key, nonce: box.nonce)
        guard box.tag.count == tagByteCount else {
            throw CryptoError(.authenticationFailed, "tag must be \(tagByteCount) bytes, got \(box.tag.count)")
        }
        let cipher = try Cipher(encrypting: false, key: key, nonce: box.nonce)
        try cipher.update(aad: aad)
        let plaintext = try cipher.update(box.ciphertext)
        var tag = box.tag
        guard EVP_CIPHER_CTX_ctrl(cipher.context, EVP_CTRL_GCM_SET_TAG, Int32(tagByteCount), &tag) == 1 else {
            throw CryptoError(.library, "could not set the GCM tag")
        }
        do {
            _ = try cipher.finish()
        } catch {
            throw CryptoError(.authenticationFailed, "ciphertext, associated data or key does not match the tag")
        }
        return plaintext
    }

    private static func check(key: [UInt8], nonce: [UInt8]) throws(CryptoError) {
        guard key.count == keyByteCount else {
            throw CryptoError(.invalidKey, "expected a \(keyByteCount)-byte key, got \(key.count) bytes")
        }
        guard nonce.count == nonceByteCount else {
            throw CryptoError(.invalidNonce, "expected a \(nonceByteCount)-byte nonce, got \(nonce.count) bytes")
        }
    }

    /// Owns one `EVP_CIPHER_CTX` and frees it.
    private final class Cipher {
        let context: OpaquePointer
        let encrypting: Bool

        init(encrypting: Bool, key: [UInt8], nonce: [UInt8]) throws(CryptoError) {
            guard let context = EVP_CIPHER_CTX_new() else { throw CryptoError(.library, "EVP_CIPHER_CTX_new failed") }
            self.context = context
            self.encrypting = encrypting
            let initialise = encrypting ? EVP_EncryptInit_ex : EVP_DecryptInit_ex
            guard initialise(context, EVP_aes_256_gcm(), nil, nil, nil) == 1,
                  EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_IVLEN, Int32(nonce.count), nil) == 1,
                  initialise(context, nil, nil, key, nonce) == 1 else {
                throw CryptoError(.library, "could not initialise AES-256-GCM")
            }
        }

        deinit { EVP_CIPHER_CTX_free(context) }

        func update(aad: [UInt8]) throws(CryptoError) {
            guard !aad.isEmpty else { return }
            var length: Int32 = 0
            let update = encrypting ? EVP_EncryptUpdate : EVP_DecryptUpdate
            guard update(context, nil, &length, aad, Int32(aad.count)) == 1 else {
                throw CryptoError(.library, "could not add associated data")
            }
        }

        func update(_ input: [UInt8]) throws(CryptoError) -> [UInt8] {
            guard !input.isEmpty else { return [] }
            var output = [UInt8](repeating: 0, count: input.count + 16)
            var length: Int32 = 0
            let update = encrypting ? EVP_EncryptUpdate : EVP_DecryptUpdate
            guard update(context, &output, &length, input, Int32(input.count)) == 1 else {
                throw CryptoError(.library, "cipher update failed")
            }
            return Array(output.prefix(Int(length)))
        }

        func finish() throws(CryptoError) -> [UInt8] {
            var output = [UInt8](repeating: 0, count: 16)
            var length: Int32 = 0
            let final = encrypting ? EVP_EncryptFinal_ex : EVP_DecryptFinal_ex
            guard final(context, &output, &length) == 1 else {
                throw CryptoError(.authenticationFailed, "cipher finalisation failed")
            }
            return Array(output.prefix(Int(length)))
        }
    }
}
