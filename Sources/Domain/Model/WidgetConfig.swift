import Foundation

/// What the widget is told about a site (`GET /v1/widget/config`, and the cabinet's live
/// preview): its language, look, zone and working hours, under a version (the settings' hash).
public struct WidgetConfig: Encodable, Sendable {
    public let version: String
    public let language: String
    public let color: String
    public let position: String
    public let buttonText: String?
    public let openAfterSeconds: Int?
    public let timeZone: String
    public let hours: WorkingHours

    public init(_ site: Site, version: String) {
        self.version = version
        language = site.language
        color = site.widget.color
        position = site.widget.position.rawValue
        buttonText = site.widget.buttonText
        openAfterSeconds = site.widget.openAfterSeconds
        timeZone = site.timeZone.identifier
        hours = site.hours
    }

    enum CodingKeys: String, CodingKey {
        case version, language, color, position, buttonText = "button_text", openAfterSeconds = "open_after_s",
             timeZone = "time_zone", hours
    }
}
