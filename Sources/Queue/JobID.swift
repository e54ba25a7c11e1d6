#if canImport(Glibc)
import Glibc
#endif

/// Job ids: 26 characters of Crockford base32, 48 bits of milliseconds then 80 random bits
/// (the ULID layout). Ids sort by creation time, and two processes never mint the same one.
public enum JobID {
    private static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    public static func make(milliseconds: UInt64 = currentMilliseconds()) -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes: [UInt8] = []
        bytes.reserveCapacity(26)
        for shift in stride(from: 45, through: 0, by: -5) {
            bytes.append(alphabet[Int((milliseconds >> UInt64(shift)) & 31)])
        }
        let high = UInt64.random(in: 0...UInt64.max, using: &generator)
        let low = UInt64.random(in: 0...UInt64.max, using: &generator)
        for index in 0..<16 {
            let value = index < 12 ? high >> UInt64(index * 5) : low >> UInt64((index - 12) * 5)
            bytes.append(alphabet[Int(value & 31)])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Wall-clock time: ids only need to sort roughly by creation; scheduling uses Redis's clock.
    public static func currentMilliseconds() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return UInt64(spec.tv_sec) * 1000 + UInt64(spec.tv_nsec) / 1_000_000
    }

    /// Whether text has the shape of a job id (operators paste them into the CLI).
    public static func isValid(_ text: String) -> Bool {
        text.utf8.count == 26 && text.utf8.allSatisfy { alphabet.contains($0) }
    }
}
