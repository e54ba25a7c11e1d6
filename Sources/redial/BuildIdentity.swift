import CryptoPrimitives
import Foundation

/// The build this process runs, told apart from any other build of the same version: the GNU
/// build id the linker writes into the executable (a note near its start, read without loading
/// the whole file: every worker announces it, and many start at once), else the first 12 hex
/// digits of the executable's SHA-256.
enum BuildIdentity {
    static let current: String = {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        if let handle = try? FileHandle(forReadingFrom: executable), let head = try? handle.read(upToCount: 64 * 1024),
           let id = buildID(in: Array(head)) {
            try? handle.close()
            return String(id.prefix(12))
        }
        let whole = (try? Data(contentsOf: executable, options: .alwaysMapped)).map { Array($0) } ?? []
        return whole.isEmpty ? "unknown" : String(SHA256.hash(whole).hexString.prefix(12))
    }()

    /// The descriptor of an ELF `NT_GNU_BUILD_ID` note (name "GNU", type 3) in `bytes`, as hex.
    static func buildID(in bytes: [UInt8]) -> String? {
        // namesz = 4, descsz (read below), type = 3, "GNU\0": little-endian, as on x86-64 and arm64.
        let type: [UInt8] = [3, 0, 0, 0] + Array("GNU\u{0}".utf8)
        guard bytes.count > 16 else { return nil }
        for start in stride(from: 0, to: bytes.count - 16, by: 4)
        where bytes[start..<start + 4] == [4, 0, 0, 0] && Array(bytes[start + 8..<start + 16]) == type {
            let size = Int(bytes[start + 4]) | Int(bytes[start + 5]) << 8
            guard (8...64).contains(size), start + 16 + size <= bytes.count else { continue }
            return Array(bytes[start + 16..<start + 16 + size]).hexString
        }
        return nil
    }
}
