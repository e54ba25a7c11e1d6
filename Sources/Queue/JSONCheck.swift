/// A strict syntax check of one JSON value (RFC 8259), without building it.
///
/// Why not Foundation's parser: every enqueue checks its payload, and `JSONSerialization`
/// builds the whole object graph (dictionaries, `NSNumber`s) only to throw it away; measured
/// with `perf`, that was a seventh of an enqueuing client's CPU. This scanner allocates nothing
/// but its stack of open containers, and says where the text stops being JSON.
enum JSONCheck {
    /// Containers nested deeper than this are refused (a scanner's stack, like any parser's, is
    /// finite; no job payload needs more).
    static let maximumDepth = 512

    /// nil when `text` is exactly one JSON value (object, array or scalar) with optional
    /// whitespace around it; otherwise what is wrong and at which byte.
    static func problem(in text: String) -> String? {
        var text = text
        return text.withUTF8 { bytes in
            var scanner = JSONScanner(bytes: bytes)
            return scanner.problem()
        }
    }
}

private struct JSONScanner {
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0

    init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    private var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    private func failure(_ expected: String) -> String {
        guard let current else { return "expected \(expected) at byte \(index), found the end" }
        let shown = current >= 0x20 && current < 0x7F ? "'\(Character(Unicode.Scalar(current)))'" : "byte 0x\(String(current, radix: 16))"
        return "expected \(expected) at byte \(index), found \(shown)"
    }

    private mutating func skipWhitespace() {
        while let byte = current, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { index += 1 }
    }

    mutating func problem() -> String? {
        var open: [UInt8] = []  // the containers open around the current position: '{' or '['
        value: while true {
            skipWhitespace()
            guard let first = current else { return failure("a value") }
            switch first {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                let opening = first
                let closing = opening == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
                guard open.count < JSONCheck.maximumDepth else {
                    return "containers nested deeper than \(JSONCheck.maximumDepth) at byte \(index)"
                }
                index += 1
                skipWhitespace()
                if current == closing {
                    index += 1
                } else {
                    open.append(opening)
                    if opening == UInt8(ascii: "{"), let problem = scanKey() { return problem }
                    continue value
                }
            case UInt8(ascii: "\""):
                if let problem = scanString() { return problem }
            case UInt8(ascii: "t"):
                if let problem = scanLiteral("true") { return problem }
            case UInt8(ascii: "f"):
                if let problem = scanLiteral("false") { return problem }
            case UInt8(ascii: "n"):
                if let problem = scanLiteral("null") { return problem }
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                if let problem = scanNumber() { return problem }
            default:
                return failure("a value")
            }
            // A value ended: close what it ends, or go on to the next member or element.
            while true {
                skipWhitespace()
                guard let container = open.last else {
                    return current == nil ? nil : failure("the end of the text")
                }
                let closing = container == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
                if current == UInt8(ascii: ",") {
                    index += 1
                    if container == UInt8(ascii: "{"), let problem = scanKey() { return problem }
                    continue value
                }
                guard current == closing else { return failure("',' or '\(Character(Unicode.Scalar(closing)))'") }
                index += 1
                open.removeLast()
            }
        }
    }

    /// A member's name and its colon.
    private mutating func scanKey() -> String? {
        skipWhitespace()
        guard current == UInt8(ascii: "\"") else { return failure("a member name in double quotes") }
        if let problem = scanString() { return problem }
        skipWhitespace()
        guard current == UInt8(ascii: ":") else { return failure("':'") }
        index += 1
        return nil
    }

    private mutating func scanLiteral(_ literal: StaticString) -> String? {
        for expected in UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount) {
            guard current == expected else { return failure("'\(literal)'") }
            index += 1
        }
        return nil
    }

    /// -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
    private mutating func scanNumber() -> String? {
        if current == UInt8(ascii: "-") { index += 1 }
        if current == UInt8(ascii: "0") {
            index += 1
        } else {
            guard scanDigits() else { return failure("a digit") }
        }
        if current == UInt8(ascii: ".") {
            index += 1
            guard scanDigits() else { return failure("a digit after the decimal point") }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            index += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { index += 1 }
            guard scanDigits() else { return failure("a digit in the exponent") }
        }
        return nil
    }

    /// One or more digits; false when there is none.
    private mutating func scanDigits() -> Bool {
        let start = index
        while let byte = current, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") { index += 1 }
        return index > start
    }

    /// A string from its opening quote. Its bytes are valid UTF-8 already (they come from a
    /// Swift String); what is checked is JSON's own rules: no raw control characters, known
    /// escapes only, and \u escapes that pair surrogates.
    private mutating func scanString() -> String? {
        index += 1
        while let byte = current {
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return nil
            case UInt8(ascii: "\\"):
                index += 1
                switch current {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                     UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    index += 1
                case UInt8(ascii: "u"):
                    if let problem = scanUnicodeEscape() { return problem }
                default:
                    return failure("an escape (one of \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u)")
                }
            case 0x00..<0x20:
                return failure("a control character escaped (\\n, \\t, \\u00XX, …)")
            default:
                index += 1
            }
        }
        return failure("'\"' closing the string")
    }

    /// After "\u": four hex digits; a high surrogate must be followed by "\u" and a low one.
    private mutating func scanUnicodeEscape() -> String? {
        index += 1
        guard let unit = scanHex4() else { return failure("four hex digits after \\u") }
        switch unit {
        case 0xD800...0xDBFF:
            guard current == UInt8(ascii: "\\"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "u") else {
                return failure("\\u and a low surrogate after a high surrogate")
            }
            index += 2
            guard let low = scanHex4(), (0xDC00...0xDFFF).contains(low) else {
                return failure("a low surrogate (\\uDC00-\\uDFFF) after a high surrogate")
            }
        case 0xDC00...0xDFFF:
            index -= 4
            return failure("a high surrogate before a low surrogate")
        default:
            break
        }
        return nil
    }

    private mutating func scanHex4() -> UInt16? {
        var value: UInt16 = 0
        for _ in 0..<4 {
            guard let byte = current else { return nil }
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt16(digit)
            index += 1
        }
        return value
    }
}
