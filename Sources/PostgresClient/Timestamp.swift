import Foundation

/// Timestamps cross the wire as epoch seconds (exact, zone-free) or RFC 3339 text.
package enum Timestamp {
    package static func select(_ column: String) -> String { "extract(epoch FROM \(column))::float8 AS \(column)" }

    package static func text(_ date: Date) -> String {
        ISO8601DateFormatter.withFractions.string(from: date)
    }
}

extension ISO8601DateFormatter {
    nonisolated(unsafe) package static let withFractions: ISO8601DateFormatter = {
        // nonisolated(unsafe): configured once here, then only read; formatting is thread-safe.
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }()
}
