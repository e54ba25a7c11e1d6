import Foundation

/// How a site's widget looks and behaves: its colour, its corner, its button's text and whether
/// it opens by itself. The texts around them come in the site's language; the promise ("within
/// a minute", "at 09:00 tomorrow") from the site's working hours and zone.
public struct WidgetSettings: Sendable, Hashable, Codable {
    public enum Position: String, Sendable, Hashable, Codable, CaseIterable {
        case right, left
    }

    /// The button's and the form's colour, `#rrggbb`.
    public var color = "#0b7a3e"
    public var position = Position.right
    /// Instead of the language's "Call me back"; 1-40 characters.
    public var buttonText: String?
    /// Opens the form by itself this many seconds after the page loads (1-600); nil: never.
    public var openAfterSeconds: Int?

    public init() {}

    enum CodingKeys: String, CodingKey {
        case color, position, buttonText = "button_text", openAfterSeconds = "open_after_s"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        color = try container.decodeIfPresent(String.self, forKey: .color) ?? color
        position = try container.decodeIfPresent(Position.self, forKey: .position) ?? position
        buttonText = try container.decodeIfPresent(String.self, forKey: .buttonText)
        openAfterSeconds = try container.decodeIfPresent(Int.self, forKey: .openAfterSeconds)
    }

    /// Every problem at once, each naming its field.
    public func validate() throws(DomainError) {
        var problems: [String] = []
        let hex = color.dropFirst()
        if !(color.hasPrefix("#") && hex.count == 6 && hex.allSatisfy(\.isHexDigit)) {
            problems.append("color: expected #rrggbb, got '\(color.prefix(20))'")
        }
        if let buttonText, !(1...40).contains(buttonText.count) || buttonText.contains(where: { $0.isNewline || $0.asciiValue.map { $0 < 32 } == true })
            || buttonText.trimmingCharacters(in: .whitespaces).isEmpty {
            problems.append("button_text: expected 1-40 characters on one line")
        }
        if let openAfterSeconds, !(1...600).contains(openAfterSeconds) {
            problems.append("open_after_s: expected 1-600 seconds, got \(openAfterSeconds)")
        }
        if !problems.isEmpty { throw DomainError(.invalid, problems.joined(separator: "; "), field: "widget") }
    }
}
