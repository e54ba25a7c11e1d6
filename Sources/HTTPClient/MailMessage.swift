import Foundation

/// An email as RFC 5322 / MIME bytes: a text part and an optional HTML alternative
/// (`multipart/alternative`), attachments (`multipart/mixed`), UTF-8 everywhere (headers as
/// RFC 2047 encoded words, bodies base64), CRLF line ends.
public struct MailMessage: Sendable {
    public struct Attachment: Sendable {
        public let filename: String
        public let contentType: String
        public let data: [UInt8]

        public init(filename: String, contentType: String, data: [UInt8]) {
            self.filename = filename
            self.contentType = contentType
            self.data = data
        }
    }

    public var from: String
    public var fromName: String?
    public var to: [String]
    public var subject: String
    public var text: String
    public var html: String?
    public var attachments: [Attachment] = []
    /// `<…@…>`; derive it from the effect key so a duplicate is recognisable.
    public var messageID: String
    public var date = Date()

    public init(from: String, fromName: String? = nil, to: [String], subject: String, text: String, html: String? = nil, messageID: String) {
        self.from = from
        self.fromName = fromName
        self.to = to
        self.subject = subject
        self.text = text
        self.html = html
        self.messageID = messageID
    }

    public func rendered() -> [UInt8] {
        var headers = [
            "From: " + (fromName.map { Self.encodedWord($0) + " <\(from)>" } ?? from),
            "To: " + to.joined(separator: ", "),
            "Subject: " + Self.encodedWord(subject),
            "Date: " + Self.rfc5322Date(date),
            "Message-ID: " + messageID,
            "MIME-Version: 1.0",
        ]
        var body = Self.part(contentType: "text/plain; charset=UTF-8", bytes: Array(text.utf8))
        if let html {
            let boundary = "alt-" + String(messageID.hashValue.magnitude, radix: 36)
            body = ["Content-Type: multipart/alternative; boundary=\"\(boundary)\"", "",
                    "--\(boundary)", body, "--\(boundary)",
                    Self.part(contentType: "text/html; charset=UTF-8", bytes: Array(html.utf8)), "--\(boundary)--", ""].joined(separator: "\r\n")
        }
        if !attachments.isEmpty {
            let boundary = "mix-" + String(messageID.hashValue.magnitude, radix: 36)
            var parts = ["Content-Type: multipart/mixed; boundary=\"\(boundary)\"", "", "--\(boundary)", body]
            for attachment in attachments {
                parts += ["--\(boundary)", Self.part(contentType: attachment.contentType, bytes: attachment.data,
                                                     disposition: "attachment; filename=\"\(attachment.filename.filter { $0 != "\"" })\"")]
            }
            parts += ["--\(boundary)--", ""]
            body = parts.joined(separator: "\r\n")
        }
        // The body's own Content-Type line goes with the headers.
        let lines = body.components(separatedBy: "\r\n")
        var index = 0
        while index < lines.count && !lines[index].isEmpty { headers.append(lines[index]); index += 1 }
        return Array((headers.joined(separator: "\r\n") + "\r\n" + lines[index...].joined(separator: "\r\n")).utf8)
    }

    static func part(contentType: String, bytes: [UInt8], disposition: String? = nil) -> String {
        var lines = ["Content-Type: \(contentType)", "Content-Transfer-Encoding: base64"]
        if let disposition { lines.append("Content-Disposition: \(disposition)") }
        let encoded = Data(bytes).base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
        return (lines + ["", encoded]).joined(separator: "\r\n")
    }

    /// ASCII text as is; anything else as `=?UTF-8?B?…?=` words of at most 75 characters.
    static func encodedWord(_ text: String) -> String {
        if text.allSatisfy({ $0.isASCII && !$0.isNewline }) { return text }
        var words: [String] = []
        var chunk = ""
        for character in text where !character.isNewline {
            if (chunk + String(character)).utf8.count > 45 {
                words.append(chunk)
                chunk = ""
            }
            chunk.append(character)
        }
        if !chunk.isEmpty { words.append(chunk) }
        return words.map { "=?UTF-8?B?" + Data($0.utf8).base64EncodedString() + "?=" }.joined(separator: "\r\n ")
    }

    static func rfc5322Date(_ date: Date) -> String {
        let format = DateFormatter()
        format.locale = Locale(identifier: "en_US_POSIX")
        format.timeZone = TimeZone(identifier: "UTC")
        format.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        return format.string(from: date)
    }
}
