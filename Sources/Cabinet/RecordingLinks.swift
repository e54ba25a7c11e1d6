import CryptoPrimitives
import Foundation
import Hummingbird
import PostgresClient
import Providers

/// Recordings played in the cabinet: each through a link that works for
/// `recordingLinkLifetime` seconds, its expiry signed with the lookup key, so any API process
/// honours it and no one can forge or extend it. The audio comes from object storage.
extension CabinetRoutes {
    static let recordingLinkLifetime = 600

    func recordingLink(_ callbackID: String, now: Date = Date()) -> String {
        let expires = Int(now.timeIntervalSince1970) + Self.recordingLinkLifetime
        return "/cabinet/recordings/\(callbackID)?expires=\(expires)&sig=\(protection.lookup("cabinet-recording:\(callbackID):\(expires)"))"
    }

    func recording(_ request: Request, id: String) async throws -> Response {
        let expires = Int(request.uri.queryParameters.get("expires") ?? "") ?? 0
        let signature = request.uri.queryParameters.get("sig") ?? ""
        let expected = protection.lookup("cabinet-recording:\(id):\(expires)")
        guard ConstantTime.equal(Array(signature.utf8), Array(expected.utf8)) else { return Self.plain(.forbidden, "not a link this cabinet gave") }
        guard expires >= Int(Date().timeIntervalSince1970) else { return Self.plain(.forbidden, "this link has expired: reload the cabinet") }
        guard let storage, UUID(uuidString: id) != nil, let key = try await database.query("""
            SELECT object_key FROM recordings WHERE callback_id = $1::uuid AND deleted_at IS NULL ORDER BY attempt DESC LIMIT 1
            """, [id]).first.map({ try $0.decode("object_key", as: String.self) }) else {
            return Self.plain(.notFound, "no recording")
        }
        let bytes = try await storage.get(key, maxBytes: recordingMaxBytes)
        let type = key.hasSuffix(".mp3") ? "audio/mpeg" : key.hasSuffix(".wav") ? "audio/wav" : "application/octet-stream"
        return Response(status: .ok, headers: [.contentType: type, .cacheControl: "private, no-store"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func plain(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text + "\n")))
    }
}
