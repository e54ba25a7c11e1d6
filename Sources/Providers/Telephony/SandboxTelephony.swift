import CryptoPrimitives
import Foundation
import HTTPClient

/// The `TelephonyProvider` adapter for `redial sandbox` (and any carrier speaking its protocol).
public struct SandboxTelephony: TelephonyProvider {
    public let baseURL: String
    /// How long an originate may take before its answer counts as unclear.
    public let originateTimeout: Duration
    /// The shared secret the carrier signs its webhooks with.
    /// The secrets a webhook may be signed with: the current one, and the one before it while
    /// the carrier moves to the new (two valid at once, so a rotation drops no event).
    let webhookSecrets: [[UInt8]]
    let client = HTTPClient()

    public init(baseURL: String, webhookSecret: String, previousWebhookSecret: String? = nil, originateTimeout: Duration = .seconds(15)) {
        self.baseURL = baseURL
        webhookSecrets = [webhookSecret, previousWebhookSecret].compactMap { $0.map { Array($0.utf8) } }
        self.originateTimeout = originateTimeout
    }

    public func originate(managers: [String], visitor: String, idempotencyKey: String,
                          callbackURL: String) async throws(OriginateError) -> ProviderCall {
        let body = (try? JSONSerialization.data(withJSONObject: ["managers": managers, "visitor": visitor, "callback_url": callbackURL]))
            ?? Data()
        let response: HTTPClientResponse
        do {
            response = try await client.send(HTTPClientRequest(
                method: "POST", url: baseURL + "/v1/calls",
                headers: [("Content-Type", "application/json"), ("Idempotency-Key", idempotencyKey)],
                body: Array(body), timeout: originateTimeout))
        } catch {
            // No connection was made, so no request reached the carrier: nothing can have been placed.
            if error.code == .connectionFailed || error.code == .invalidRequest { throw .refused(.networkFailure, error.description) }
            throw .unclear(error.description)
        }
        let detail = "originate answered \(response.status): \(response.text.prefix(200))"
        switch response.status {
        case 200, 201:
            do throws(ProviderError) { return try decode(response) } catch { throw .unclear(error.description) }
        // Answers that say the carrier did not take the request. 409 (the key is busy) and 429
        // are not among them: the same key is simply tried again.
        case 404, 484: throw .refused(.invalidNumber, detail)
        case 402: throw .refused(.noFunds, detail)
        case 400, 403, 422: throw .refused(.rejected, detail)
        default: throw .unclear(detail)
        }
    }

    public func call(id: String) async throws(ProviderError) -> ProviderCall {
        let escaped = id.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? id
        let response = try await send(HTTPClientRequest(url: baseURL + "/v1/calls/" + escaped, timeout: .seconds(10)))
        guard response.status == 200 else { throw .unavailable("call status answered \(response.status)") }
        return try decode(response)
    }

    public func call(idempotencyKey: String) async throws(ProviderError) -> ProviderCall? {
        let escaped = idempotencyKey.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? idempotencyKey
        let response = try await send(HTTPClientRequest(url: baseURL + "/v1/calls?idempotency_key=" + escaped, timeout: .seconds(10)))
        guard response.status == 200 else { throw .unavailable("call look-up answered \(response.status)") }
        guard let list = try? JSONDecoder().decode(SandboxWire.CallList.self, from: Data(response.body)) else {
            throw .unavailable("unreadable call look-up answer: \(response.text.prefix(200))")
        }
        return list.calls.first.map(Self.call(from:))
    }

    private func send(_ request: HTTPClientRequest) async throws(ProviderError) -> HTTPClientResponse {
        do {
            return try await client.send(request)
        } catch {
            throw .unavailable("\(error)")
        }
    }

    private func decode(_ response: HTTPClientResponse) throws(ProviderError) -> ProviderCall {
        guard let body = try? JSONDecoder().decode(SandboxWire.CallStatus.self, from: Data(response.body)) else {
            throw .unavailable("unreadable provider answer: \(response.text.prefix(200))")
        }
        return Self.call(from: body)
    }

    private static func call(from body: SandboxWire.CallStatus) -> ProviderCall {
        ProviderCall(callID: body.callID, finished: body.status == "completed", outcome: SandboxWire.outcome(of: body),
                     durationSeconds: body.durationSeconds ?? 0, recordingURL: body.recordingURL, sipCode: body.sipCode)
    }

    /// `X-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` with the shared
    /// secret, at most `signatureTolerance` old; the body a JSON event with event_id and call_id.
    public func event(fromWebhook body: [UInt8], signature: String?, now: Date) throws(WebhookRejection) -> CallEvent {
        let mac = try SandboxWire.verifiedMAC(of: body, signature: signature, secrets: webhookSecrets, now: now)
        guard let event = try? JSONDecoder().decode(SandboxWire.Event.self, from: Data(body)),
              !event.eventID.isEmpty, event.eventID.utf8.count <= 200, !event.call.callID.isEmpty else {
            throw .malformedEvent("expected a JSON event with event_id and call_id")
        }
        let outcome = CallOutcome(reported: event.call.outcome, sipCode: event.call.sipCode)
        let call = ProviderCall(callID: event.call.callID, finished: outcome != nil, outcome: outcome,
                                durationSeconds: event.call.durationSeconds ?? 0, recordingURL: event.call.recordingURL,
                                sipCode: event.call.sipCode)
        return CallEvent(eventID: event.eventID, call: call, replayToken: mac.hexString)
    }
}
