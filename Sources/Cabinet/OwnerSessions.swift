import CryptoPrimitives
import Foundation
import RedisClient

/// Signed-in owners: a random id in an `HttpOnly`, `SameSite=Lax` cookie (the link arrives from
/// a mail client, another site); Redis keeps only its SHA-256 with the owner's address and the
/// session's CSRF token, for 12 hours.
struct OwnerSessions: Sendable {
    let redis: RedisPool
    static let lifetime: Duration = .seconds(12 * 3600)

    struct Session: Sendable, Codable {
        let email: String
        let csrf: String
    }

    func start(email: String) async throws -> String {
        let id = try SecureRandom.token(byteCount: 32)
        let session = Session(email: email, csrf: try SecureRandom.token(byteCount: 24))
        try await redis.send("SET", Self.key(id), String(decoding: try JSONEncoder().encode(session), as: UTF8.self),
                             "EX", Int(Self.lifetime.components.seconds))
        return id
    }

    func session(id: String) async throws -> Session? {
        guard !id.isEmpty, id.count <= 128, let text = try await redis.send("GET", Self.key(id)).string else { return nil }
        return try? JSONDecoder().decode(Session.self, from: Data(text.utf8))
    }

    func end(id: String) async throws {
        try await redis.send("DEL", Self.key(id))
    }

    private static func key(_ id: String) -> String {
        "redial:cabinet:session:" + SHA256.hash(Array(id.utf8)).hexString
    }
}
