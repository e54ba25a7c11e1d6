import Domain
import Foundation
import Testing

@Suite struct PhoneNumberTests {
    @Test(arguments: [
        ("+7 916 123-45-67", nil, "+79161234567"),
        ("8 (916) 123-45-67", "7", "+79161234567"),
        ("79161234567", "7", "+79161234567"),
        ("9161234567", "7", "+79161234567"),
        ("0044 20 7946 0018", nil, "+442079460018"),
        ("020 7946 0018", "44", "+442079460018"),
        ("+1 (415) 555-0100", nil, "+14155550100"),
    ])
    func normalisesToE164(text: String, country: String?, expected: String) throws {
        #expect(try PhoneNumber(parsing: text, defaultCountryCode: country).e164 == expected)
    }

    @Test(arguments: [
        ("", PhoneNumber.Problem.empty),
        ("+7 916 abc", .invalidCharacters),
        ("7+916", .invalidCharacters),
        ("9161234567", .noCountryCode),
        ("+7916", .wrongLength(4)),
        ("+1234567890123456", .wrongLength(16)),
        ("+0123456789", .noCountryCode),
    ])
    func refusesWithAReason(text: String, problem: PhoneNumber.Problem) {
        #expect(throws: problem) { try PhoneNumber(parsing: text) }
    }
}

@Suite struct WorkingHoursTests {
    let moscow = TimeZone(identifier: "Europe/Moscow")!

    func date(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    @Test func openAndNextOpeningInTheSitesOwnZone() throws {
        let weekdays = try WorkingHours(parsing: "09:00-18:00", days: [1, 2, 3, 4, 5])
        // Wednesday 2026-11-25 10:00 Moscow = 07:00Z.
        #expect(weekdays.isOpen(at: date("2026-11-25T07:00:00Z"), in: moscow))
        // Wednesday 20:00 Moscow: closed; next opening Thursday 09:00 Moscow = 06:00Z.
        #expect(!weekdays.isOpen(at: date("2026-11-25T17:00:00Z"), in: moscow))
        #expect(weekdays.nextOpening(after: date("2026-11-25T17:00:00Z"), in: moscow) == date("2026-11-26T06:00:00Z"))
        // Saturday: next opening Monday 09:00.
        #expect(weekdays.nextOpening(after: date("2026-11-28T12:00:00Z"), in: moscow) == date("2026-11-30T06:00:00Z"))
        #expect(WorkingHours.always.isOpen(at: date("2026-11-28T12:00:00Z"), in: moscow))
    }

    @Test(arguments: ["9-18", "18:00-09:00", "09:00-25:00", "09:00"])
    func badHoursAreRefused(text: String) {
        #expect(throws: DomainError.self) { try WorkingHours(parsing: text) }
    }

    @Test func roundTripsThroughJSON() throws {
        let hours = try WorkingHours(parsing: "08:30-17:45", days: [1, 7])
        let data = try JSONEncoder().encode(hours)
        #expect(String(decoding: data, as: UTF8.self).contains(#""7""#))
        #expect(try JSONDecoder().decode(WorkingHours.self, from: data) == hours)
    }
}
