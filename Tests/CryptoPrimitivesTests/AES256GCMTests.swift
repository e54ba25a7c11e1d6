import CryptoPrimitives
import Testing

/// The AES-256 cases (13–16) of the GCM specification's test vectors (McGrew & Viega).
@Suite struct AES256GCMTests {
    static let key15 = [UInt8](hexString: "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308")!
    static let nonce15 = [UInt8](hexString: "cafebabefacedbaddecaf888")!
    static let plaintext15 = [UInt8](hexString: "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
        + "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255")!
    static let ciphertext15 = [UInt8](hexString: "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
        + "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad")!

    @Test func case13EmptyPlaintext() throws {
        let box = try AES256GCM.seal([], key: [UInt8](repeating: 0, count: 32), nonce: [UInt8](repeating: 0, count: 12))
        #expect(box.ciphertext.isEmpty)
        #expect(box.tag.hexString == "530f8afbc74536b9a963b4f1c4cb738b")
    }

    @Test func case14ZeroBlock() throws {
        let box = try AES256GCM.seal([UInt8](repeating: 0, count: 16), key: [UInt8](repeating: 0, count: 32),
                                     nonce: [UInt8](repeating: 0, count: 12))
        #expect(box.ciphertext.hexString == "cea7403d4d606b6e074ec5d3baf39d18")
        #expect(box.tag.hexString == "d0d1c8a799996bf0265b98b5d48ab919")
    }

    @Test func case15() throws {
        let box = try AES256GCM.seal(Self.plaintext15, key: Self.key15, nonce: Self.nonce15)
        #expect(box.ciphertext == Self.ciphertext15)
        #expect(box.tag.hexString == "b094dac5d93471bdec1a502270e3cc6c")
        #expect(try AES256GCM.open(box, key: Self.key15) == Self.plaintext15)
    }

    @Test func case16WithAssociatedData() throws {
        let aad = [UInt8](hexString: "feedfacedeadbeeffeedfacedeadbeefabaddad2")!
        let plaintext = Array(Self.plaintext15.prefix(60))
        let box = try AES256GCM.seal(plaintext, key: Self.key15, nonce: Self.nonce15, authenticating: aad)
        #expect(box.ciphertext == Array(Self.ciphertext15.prefix(60)))
        #expect(box.tag.hexString == "76fc6ece0f4e1768cddf8853bb2d551b")
        #expect(try AES256GCM.open(box, key: Self.key15, authenticating: aad) == plaintext)
        #expect(throws: CryptoError.self) { try AES256GCM.open(box, key: Self.key15, authenticating: aad + [0]) }
    }

    @Test func tamperingIsDetected() throws {
        let key = try SecureRandom.bytes(32)
        let box = try AES256GCM.seal(Array("provider-token".utf8), key: key)
        var flipped = box.ciphertext
        flipped[0] ^= 0x01
        #expect {
            try AES256GCM.open(AES256GCM.SealedBox(nonce: box.nonce, ciphertext: flipped, tag: box.tag), key: key)
        } throws: { ($0 as? CryptoError)?.code == .authenticationFailed }
        #expect {
            try AES256GCM.open(box, key: try SecureRandom.bytes(32))
        } throws: { ($0 as? CryptoError)?.code == .authenticationFailed }
        #expect(try AES256GCM.open(try AES256GCM.SealedBox(combined: box.combined), key: key) == Array("provider-token".utf8))
    }

    @Test func badKeysAndNoncesAreRefused() {
        #expect { try AES256GCM.seal([1], key: [1, 2, 3]) } throws: { ($0 as? CryptoError)?.code == .invalidKey }
        #expect {
            try AES256GCM.seal([1], key: [UInt8](repeating: 0, count: 32), nonce: [0])
        } throws: { ($0 as? CryptoError)?.code == .invalidNonce }
        #expect(throws: CryptoError.self) { try AES256GCM.SealedBox(combined: [1, 2, 3]) }
    }

    @Test func randomNoncesAndTokensDiffer() throws {
        let key = try SecureRandom.bytes(32)
        let a = try AES256GCM.seal([1, 2, 3], key: key)
        let b = try AES256GCM.seal([1, 2, 3], key: key)
        #expect(a.nonce != b.nonce)
        let token = try SecureRandom.token()
        #expect(token.count == 48)
        #expect(try SecureRandom.token() != token)
    }
}
