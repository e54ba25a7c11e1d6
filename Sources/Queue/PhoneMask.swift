/// Phone numbers as operators may see them: the country and operator prefix and the last two
/// digits (`+7916•••••67`). A job's stored error is masked before it is kept (a provider's
/// refusal often names the number), and the console masks what it shows.
public enum PhoneMask {
    /// One number.
    public static func mask(_ phone: String) -> String {
        guard phone.count > 7 else { return String(repeating: "•", count: phone.count) }
        return String(phone.prefix(5)) + String(repeating: "•", count: phone.count - 7) + String(phone.suffix(2))
    }

    /// Every number in E.164 form in `text` (`+` and 8 to 15 digits: the form Redial keeps and
    /// sends) masked. Bare digit runs are left alone: sizes, times and counts are digits too.
    public static func maskNumbers(in text: String) -> String {
        var result = ""
        var run = ""
        func flush() {
            let digits = run.filter(\.isASCIIDigitCharacter).count
            result += run.hasPrefix("+") && (8...15).contains(digits) ? mask(run) : run
            run = ""
        }
        for character in text {
            if character.isASCIIDigitCharacter || (character == "+" && run.isEmpty) {
                run.append(character)
            } else {
                flush()
                result.append(character)
            }
        }
        flush()
        return result
    }
}

extension Character {
    fileprivate var isASCIIDigitCharacter: Bool { ("0"..."9").contains(self) }
}
