import Foundation
import HTTPClient

/// The `TelephonyProvider` adapter for `redial sandbox` (and any carrier speaking its protocol).
public struct SandboxTelephony: TelephonyProvider {
    public let baseURL: String
    /// How long an originate may take before its answer counts as unclear.
    public let originateTimeout: Duration
    let client = HTTPClient()

    public init(baseURL: String, originateTimeout: Duration = .seconds(15)) {
        self.baseURL = baseURL
        self.originateTimeout = originateTimeout
    }

    struct Body: Codable {
        let callID: String
        let status: String
        let outcome: String?
        let sipCode: Int?
        let durationSeconds: Int?
        let recordingURL: String?

        enum CodingKeys: String, CodingKey {
            case callID = "call_id", status, outcome, sipCode = "sip_code", durationSeconds = "duration_s", recordingURL = "recording_url"
        }
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
        guard let list = try? JSONDecoder().decode(CallList.self, from: Data(response.body)) else {
            throw .unavailable("unreadable call look-up answer: \(response.text.prefix(200))")
        }
        return list.calls.first.map(Self.call(from:))
    }

    struct CallList: Decodable {
        let calls: [Body]
    }

    private func send(_ request: HTTPClientRequest) async throws(ProviderError) -> HTTPClientResponse {
        do {
            return try await client.send(request)
        } catch {
            throw .unavailable("\(error)")
        }
    }

    private func decode(_ response: HTTPClientResponse) throws(ProviderError) -> ProviderCall {
        guard let body = try? JSONDecoder().decode(Body.self, from: Data(response.body)) else {
            throw .unavailable("unreadable provider answer: \(response.text.prefix(200))")
        }
        return Self.call(from: body)
    }

    private static func call(from body: Body) -> ProviderCall {
        let outcome = body.outcome.flatMap(CallOutcome.init(rawValue:)) ?? body.sipCode.map(CallOutcome.init(sipCode:))
        return ProviderCall(callID: body.callID, finished: body.status == "completed", outcome: body.status == "completed" ? outcome : nil,
                            durationSeconds: body.durationSeconds ?? 0, recordingURL: body.recordingURL)
    }
}
