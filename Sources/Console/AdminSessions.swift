import CryptoPrimitives
import RedisClient

/// Signed-in operators of the console: a session is a random id in an `HttpOnly`,
/// `SameSite=Strict` cookie; Redis keeps only its SHA-256 (a Redis dump gives no usable
/// cookie) with the session's CSRF token, for 12 hours.
struct AdminSessions: Sendable {
    let redis: RedisPool
    let token: String
    static let lifetime: Duration = .seconds(12 * 3600)

    struct Session: Sendable {
        let csrf: String
    }

    /// A new session when `offered` is the admin token (compared in constant time), else nil.
    func signIn(offered: String) async throws -> (id: String, session: Session)? {
        let expected = SHA256.hash(Array(token.utf8))
        guard ConstantTime.equal(SHA256.hash(Array(offered.utf8)), expected) else { return nil }
        let id = try SecureRandom.token(byteCount: 32)
        let csrf = try SecureRandom.token(byteCount: 24)
        try await redis.send("SET", Self.key(id), csrf, "EX", Int(Self.lifetime.components.seconds))
        return (id, Session(csrf: csrf))
    }

    func session(id: String) async throws -> Session? {
        guard !id.isEmpty, id.count <= 128 else { return nil }
        return try await redis.send("GET", Self.key(id)).string.map(Session.init(csrf:))
    }

    func signOut(id: String) async throws {
        try await redis.send("DEL", Self.key(id))
    }

    private static func key(_ id: String) -> String {
        "redial:admin:session:" + SHA256.hash(Array(id.utf8)).hexString
    }
}
