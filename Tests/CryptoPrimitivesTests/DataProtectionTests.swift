import CryptoPrimitives
import Foundation
import Testing

@Suite struct DataProtectionTests {
    static func key(_ byte: UInt8) -> String { Data(repeating: byte, count: 32).base64EncodedString() }
    static let lookup = Array("a lookup key of thirty-two bytes!".utf8)

    @Test func sealsUnderTheFirstKeyAndOpensWithTheRingOnlyInItsOwnField() throws {
        let ring = try DataProtection(ring: "k1:\(Self.key(1))", lookupKey: Self.lookup)
        let sealed = try ring.seal("+79161234567", field: "callbacks.phone")
        #expect(sealed.hasPrefix("v1.k1."))
        #expect(!sealed.contains("79161234567"))
        #expect(try ring.seal("+79161234567", field: "callbacks.phone") != sealed, "a fresh nonce each time")
        #expect(try ring.open(sealed, field: "callbacks.phone") == "+79161234567")
        #expect {
            try ring.open(sealed, field: "sites.managers")
        } throws: { ($0 as? CryptoError)?.code == .authenticationFailed }
        var tampered = Array(sealed.utf8)
        tampered[tampered.count - 5] = tampered[tampered.count - 5] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        #expect {
            try ring.open(String(decoding: tampered, as: UTF8.self), field: "callbacks.phone")
        } throws: { ($0 as? CryptoError)?.code == .authenticationFailed }
        #expect {
            try ring.open("+79161234567", field: "callbacks.phone")
        } throws: { ($0 as? CryptoError)?.message == "callbacks.phone: not a sealed value" }
    }

    @Test func aRotatedRingOpensOldValuesSealsNewOnesAndAnOldKeyOnceDroppedIsNamed() throws {
        let old = try DataProtection(ring: "k1:\(Self.key(1))", lookupKey: Self.lookup)
        let both = try DataProtection(ring: "k2:\(Self.key(2)),k1:\(Self.key(1))", lookupKey: Self.lookup)
        let new = try DataProtection(ring: "k2:\(Self.key(2))", lookupKey: Self.lookup)
        let sealedByOld = try old.seal("Анна", field: "callbacks.name")
        #expect(try both.open(sealedByOld, field: "callbacks.name") == "Анна")
        #expect(both.needsResealing(sealedByOld))
        #expect(both.needsResealing("+79161234567"), "a value from before sealing")
        let resealed = try both.reseal(sealedByOld, field: "callbacks.name")
        #expect(resealed.hasPrefix("v1.k2."))
        #expect(!both.needsResealing(resealed))
        #expect(try new.open(resealed, field: "callbacks.name") == "Анна")
        #expect(try both.reseal("+79161234567", field: "callbacks.phone").hasPrefix("v1.k2."))
        #expect {
            try new.open(sealedByOld, field: "callbacks.name")
        } throws: { ($0 as? CryptoError)?.message == "callbacks.name: sealed under key 'k1', which REDIAL_DATA_KEYS does not hold" }
        #expect(DataProtection.keyID(of: sealedByOld) == "k1")
        #expect(DataProtection.keyID(of: "+79161234567") == nil)
    }

    @Test func lookupsAreStablePerKeyAndGiveNothingAway() throws {
        let a = try DataProtection(ring: "k1:\(Self.key(1))", lookupKey: Self.lookup)
        let b = try DataProtection(ring: "k2:\(Self.key(2))", lookupKey: Self.lookup)
        let other = try DataProtection(ring: "k1:\(Self.key(1))", lookupKey: Array("another lookup key, 32 bytes long".utf8))
        #expect(a.lookup("+79161234567") == b.lookup("+79161234567"), "the data keys do not change lookups")
        #expect(a.lookup("+79161234567") != other.lookup("+79161234567"))
        #expect(a.lookup("+79161234567") != a.lookup("+79161234568"))
        #expect(a.lookup("+79161234567").count == 32)
        #expect(!a.lookup("+79161234567").contains("9161234567"))
    }

    @Test func aBadRingIsRefusedSayingWhat() {
        func problem(_ ring: String) -> String? {
            do throws(CryptoError) {
                _ = try DataProtection(ring: ring, lookupKey: Self.lookup)
                return nil
            } catch {
                return error.message
            }
        }
        #expect(problem("") == "expected id:base64 with an id of 1-16 letters, digits, _ or -, got '…'")
        #expect(problem("k1") == "expected id:base64 with an id of 1-16 letters, digits, _ or -, got 'k1…'")
        #expect(problem("k 1:\(Self.key(1))")?.hasPrefix("expected id:base64") == true)
        #expect(problem("k1:c2hvcnQ=") == "key 'k1': expected 32 bytes in base64 (openssl rand -base64 32)")
        #expect(problem("k1:not base64!") == "key 'k1': expected 32 bytes in base64 (openssl rand -base64 32)")
        #expect(problem("k1:\(Self.key(1)),k1:\(Self.key(2))") == "a data key id is given twice")
        #expect(problem("k1:\(Self.key(1)), k2:\(Self.key(2))") == nil, "spaces after commas are fine")
        #expect(DataProtection.development.holdsDevelopmentKey)
        #expect((try? DataProtection(ring: "k1:\(Self.key(1))", lookupKey: Self.lookup))?.holdsDevelopmentKey == false)
    }
}
