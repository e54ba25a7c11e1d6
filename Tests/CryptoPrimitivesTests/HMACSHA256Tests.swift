import CryptoPrimitives
import Testing

/// RFC 4231 test vectors for HMAC-SHA256.
@Suite struct HMACSHA256Tests {
    @Test(arguments: [
        ([UInt8](repeating: 0x0b, count: 20), Array("Hi There".utf8),
         "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
        (Array("Jefe".utf8), Array("what do ya want for nothing?".utf8),
         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
        ([UInt8](repeating: 0xaa, count: 20), [UInt8](repeating: 0xdd, count: 50),
         "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
        ([UInt8](repeating: 0xaa, count: 131), Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
         "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
    ])
    func rfc4231Vectors(key: [UInt8], message: [UInt8], expected: String) {
        let mac = HMACSHA256.authenticate(message, key: key)
        #expect(mac.hexString == expected)
        #expect(HMACSHA256.verify(mac, message: message, key: key))
    }

    @Test func verifyRejectsAnyChange() {
        let key = Array("secret".utf8)
        let message = Array("{\"call\":1}".utf8)
        var mac = HMACSHA256.authenticate(message, key: key)
        #expect(!HMACSHA256.verify(mac, message: message + [0], key: key))
        #expect(!HMACSHA256.verify(mac, message: message, key: key + [1]))
        #expect(!HMACSHA256.verify(Array(mac.prefix(31)), message: message, key: key))
        mac[31] ^= 1
        #expect(!HMACSHA256.verify(mac, message: message, key: key))
    }

    @Test func sha256KnownAnswer() {
        #expect(SHA256.hash(Array("abc".utf8)).hexString == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hash([]).hexString == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA1.hash(Array("abc".utf8)).hexString == "a9993e364706816aba3e25717850c26c9cd0d89d")
    }

    @Test func constantTimeEquality() {
        #expect(ConstantTime.equal([1, 2, 3], [1, 2, 3]))
        #expect(!ConstantTime.equal([1, 2, 3], [1, 2, 4]))
        #expect(!ConstantTime.equal([1, 2], [1, 2, 3]))
        #expect(ConstantTime.equal([], []))
    }

    @Test func hexRoundTrip() {
        #expect([UInt8](hexString: "00ff10Ab") == [0, 255, 16, 171])
        #expect([UInt8](hexString: "abc") == nil)
        #expect([UInt8](hexString: "zz") == nil)
    }
}
