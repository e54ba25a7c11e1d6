import CryptoPrimitives
import Foundation
import HTTPTypes
import Hummingbird
import Queue
import RedisClient

/// `POST /v1/telephony/events`: the provider's status webhooks. A request must carry
/// `X-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` made with the shared
/// secret, at most 5 minutes old, and never seen before (a replayed request is refused, 401;
/// a request answered 503 was not seen, so the provider's retry of it is accepted).
/// The event becomes a `callback.outcome` job deduplicated by event id: a provider's retry of
/// the same event (freshly signed) is accepted and changes nothing.
struct TelephonyEvents: Sendable {
    let secret: [UInt8]
    let jobs: JobQueue
    let redis: RedisPool
    let policy: JobPolicy

    static let signature = HTTPField.Name("X-Signature")!
    static let tolerance: TimeInterval = 300

    func add(to router: Router<APIContext>) {
        router.post("/v1/telephony/events") { request, _ in try await receive(request) }
    }

    func receive(_ request: Request) async throws -> Response {
        guard let header = request.headers[Self.signature] else {
            throw APIError(.unauthorized, "unsigned", "the X-Signature header is required")
        }
        var fields: [Substring: Substring] = [:]
        for part in header.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1)
            if pair.count == 2 { fields[pair[0].trimmingPrefix(" ")] = pair[1] }
        }
        guard let time = fields["t"], let seconds = TimeInterval(time), let mac = fields["v1"].flatMap({ [UInt8](hexString: $0) }) else {
            throw APIError(.unauthorized, "bad_signature", "X-Signature must be t=<unix seconds>,v1=<hex>")
        }
        guard abs(Date().timeIntervalSince1970 - seconds) <= Self.tolerance else {
            throw APIError(.unauthorized, "stale_signature", "the signature is older than \(Int(Self.tolerance)) s (or from the future)")
        }
        let body = try await request.body.collect(upTo: 64 * 1024)
        let bytes = Array(body.readableBytesView)
        guard HMACSHA256.verify(mac, message: Array("\(time).".utf8) + bytes, key: secret) else {
            throw APIError(.unauthorized, "bad_signature", "the signature does not match the body")
        }
        guard let event = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
              let eventID = event["event_id"] as? String, !eventID.isEmpty, eventID.utf8.count <= 200,
              let callID = event["call_id"] as? String, !callID.isEmpty else {
            throw APIError(.badRequest, "malformed_event", "expected a JSON event with event_id and call_id")
        }
        // A signature is accepted once: its MAC is remembered for twice the tolerance window, but
        // only once its event is safely queued. Remembered first, a request that then failed to
        // queue (503) would make the provider's retry of it a "replay", and the event was lost.
        let seen = "redial:webhook:seen:\(mac.hexString)"
        do {
            if try await redis.send("EXISTS", seen).int == 1 {
                throw APIError(.unauthorized, "replayed", "this signed request was already received")
            }
            // Two copies racing past the check queue one job (the event id is the dedup key).
            _ = try await jobs.enqueue(.init(type: "callback.outcome", payload: String(decoding: bytes, as: UTF8.self), policy: policy,
                                             dedupKey: "callback.outcome:\(eventID)"))
            guard try await redis.send("SET", seen, "1", "NX", "EX", Int(Self.tolerance) * 2) == .status("OK") else {
                throw APIError(.unauthorized, "replayed", "this signed request was already received")
            }
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError(.serviceUnavailable, "unavailable", "cannot queue the event right now (\(error)); retry")
        }
        return try CallbackRoutes.json(.ok, ["status": "accepted"])
    }
}
