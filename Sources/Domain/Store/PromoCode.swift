import Foundation
import PostgresClient

/// Promo codes: minutes a site may claim once, until the code expires.
public struct PromoCode: Sendable {
    let database: PostgresPool

    public init(database: PostgresPool) {
        self.database = database
    }

    /// 3-32 of A-Z 0-9 and -, upper case.
    public static func isValid(_ code: String) -> Bool {
        (3...32).contains(code.count) && code.allSatisfy { ($0.isASCII && ($0.isUppercase || $0.isNumber)) || $0 == "-" }
    }

    /// Creates a code; false when it exists.
    public func create(_ code: String, minutes: Int, expiresAt: Date?) async throws -> Bool {
        let code = code.uppercased()
        guard Self.isValid(code) else { throw DomainError(.invalid, "code: expected 3-32 of A-Z, 0-9 and -, got '\(code.prefix(40))'", field: "code") }
        guard (1...100_000).contains(minutes) else { throw DomainError(.invalid, "minutes: expected 1-100000, got \(minutes)", field: "minutes") }
        return try await !database.query("""
            INSERT INTO promo_codes (code, minutes, expires_at) VALUES ($1, $2, to_timestamp($3)) ON CONFLICT DO NOTHING RETURNING code
            """, [code, minutes, expiresAt.map { $0.timeIntervalSince1970 }]).isEmpty
    }
}
