import CryptoPrimitives
import PostgresClient

/// The cabinet's sign-in links: a random token mailed to an address some site gives as its own,
/// kept only as its SHA-256, good once within `lifetime`.
struct OwnerLinks: Sendable {
    let database: PostgresPool
    static let lifetime: Duration = .seconds(15 * 60)

    /// Links one address may ask for within an hour: the form must not become a mail cannon.
    static let perHour = 5

    /// A new token for `email`, or nil when no active site gives that address or it had its
    /// hour's links (the caller answers the same either way: the form tells no one which
    /// addresses are owners').
    func issue(email: String) async throws -> String? {
        guard try await !database.query("""
            SELECT 1 FROM sites WHERE lower(email) = lower($1) AND active
              AND (SELECT count(*) FROM owner_links WHERE email = lower($1) AND created_at > now() - interval '1 hour') < $2
            LIMIT 1
            """, [email, Self.perHour]).isEmpty else {
            return nil
        }
        let token = try SecureRandom.token(byteCount: 32)
        try await database.query("""
            INSERT INTO owner_links (token_hash, email, expires_at) VALUES ($1, lower($2), now() + make_interval(secs => $3))
            """, [Self.hash(token), email, Double(Self.lifetime.components.seconds)])
        return token
    }

    /// The address a token was mailed to, once: nil when unknown, used or expired.
    func redeem(token: String) async throws -> String? {
        guard !token.isEmpty, token.count <= 128 else { return nil }
        return try await database.query("""
            UPDATE owner_links SET used_at = now() WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now() RETURNING email
            """, [Self.hash(token)]).first.map { try $0.decode("email", as: String.self) }
    }

    static func hash(_ token: String) -> String { SHA256.hash(Array(token.utf8)).hexString }
}
