/// A phone number in E.164 form (`+` and 8–15 digits, no leading zero in the country code).
public struct PhoneNumber: Sendable, Hashable, CustomStringConvertible {
    /// `+79161234567`
    public let e164: String

    public var description: String { e164 }

    /// The digits after `+`.
    public var digits: Substring { e164.dropFirst() }

    public enum Problem: Error, Sendable, Equatable, CustomStringConvertible {
        case empty
        case invalidCharacters
        case noCountryCode
        case wrongLength(Int)

        public var description: String {
            switch self {
            case .empty: "is empty"
            case .invalidCharacters: "may contain only digits, spaces, + ( ) - and ."
            case .noCountryCode: "has no country code: write it as +<country code><number>"
            case .wrongLength(let count): "has \(count) digits; an international number has 8 to 15"
            }
        }
    }

    /// Normalises what a visitor typed. International forms (`+7 916 …`, `00 7 916 …`) are
    /// taken as they are; a national form needs the site's default country code, and loses its
    /// trunk prefix (`0`, or `8` for +7: `8 (916) 123-45-67` → `+79161234567`).
    public init(parsing text: String, defaultCountryCode: String? = nil) throws(Problem) {
        let trimmed = text.trimmingWhitespace
        guard !trimmed.isEmpty else { throw .empty }
        guard trimmed.utf8.count <= 40,
              trimmed.allSatisfy({ $0.isASCII && ($0.isNumber || " +()-.".contains($0)) }) else {
            throw .invalidCharacters
        }
        let plusCount = trimmed.filter { $0 == "+" }.count
        guard plusCount == 0 || (plusCount == 1 && trimmed.first == "+") else { throw .invalidCharacters }
        var digits = String(trimmed.filter(\.isNumber))
        if trimmed.first != "+" {
            if digits.hasPrefix("00") {
                digits.removeFirst(2)
            } else if let country = defaultCountryCode {
                if country == "7", digits.count == 11, digits.hasPrefix("8") {
                    digits.removeFirst()
                } else if digits.hasPrefix("0") {
                    digits.removeFirst()
                }
                if !(country == "7" && digits.count == 11 && digits.hasPrefix("7")) { digits = country + digits }
            } else {
                throw .noCountryCode
            }
        }
        guard (8...15).contains(digits.count) else { throw .wrongLength(digits.count) }
        guard digits.first != "0" else { throw .noCountryCode }
        e164 = "+" + digits
    }

    /// Whether the number starts with any of the given E.164 prefixes (`+882`, `+1900`).
    public func hasPrefix(in prefixes: [String]) -> Bool {
        prefixes.contains { e164.hasPrefix($0) }
    }
}

extension String {
    var trimmingWhitespace: String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
