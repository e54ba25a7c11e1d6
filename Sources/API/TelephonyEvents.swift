import Domain
import Foundation
import HTTPTypes
import Hummingbird
import Providers
import Queue
import RedisClient

/// `POST /v1/telephony/events`: the carrier's status webhooks. The carrier's adapter checks the
/// signature and reads the event (for the sandbox: `X-Signature: t=<unix seconds>,v1=<hex
/// HMAC-SHA256 of "<t>.<body>">`, at most 5 minutes old); a signed request is accepted once (a
/// replayed one is refused, 401; a request answered 503 was not seen, so the carrier's retry of
/// it is accepted). The event becomes a `callback.outcome` job deduplicated by event id: a
/// carrier's retry of the same event (freshly signed) is accepted and changes nothing.
struct TelephonyEvents: Sendable {
    let provider: any TelephonyProvider
    let jobs: JobQueue
    let redis: RedisPool
    let policy: JobPolicy

    static let signature = HTTPField.Name(SandboxWire.signatureHeader)!
    /// How long a signed request is remembered: twice the longest a signature is accepted.
    static let remembered = Int(SandboxWire.signatureTolerance) * 2

    func add(to router: Router<APIContext>) {
        router.post("/v1/telephony/events") { request, _ in try await receive(request) }
    }

    func receive(_ request: Request) async throws -> Response {
        // The dial flow names its release channel in the URL it gives the carrier, so the outcome
        // is handled by the channel that dialled (beta workers take only beta jobs).
        let channelName = request.uri.queryParameters.get("channel") ?? WorkerRelease.Channel.production.rawValue
        guard let channel = WorkerRelease.Channel(rawValue: channelName) else {
            throw APIError(.badRequest, "invalid_channel", "channel: expected production or beta, got '\(channelName.prefix(40))'")
        }
        let body = try await request.body.collect(upTo: 64 * 1024)
        let event: CallEvent
        do {
            event = try provider.event(fromWebhook: Array(body.readableBytesView), signature: request.headers[Self.signature], now: Date())
        } catch {
            if case .malformedEvent = error { throw APIError(.badRequest, error.code, error.message) }
            throw APIError(.unauthorized, error.code, error.message)
        }
        // A signature is accepted once: its MAC is remembered for twice the tolerance window, but
        // only once its event is safely queued. Remembered first, a request that then failed to
        // queue (503) would make the carrier's retry of it a "replay", and the event was lost.
        let seen = "redial:webhook:seen:\(event.replayToken)"
        do {
            if try await redis.send("EXISTS", seen).int == 1 {
                throw APIError(.unauthorized, "replayed", "this signed request was already received")
            }
            // Two copies racing past the check queue one job (the event id is the dedup key).
            _ = try await jobs.enqueue(.init(CallOutcomeArgs(event), policy: policy, dedupKey: CallOutcomeArgs.dedupKey(eventID: event.eventID))
                .routed(to: channel))
            guard try await redis.send("SET", seen, "1", "NX", "EX", Self.remembered) == .status("OK") else {
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
