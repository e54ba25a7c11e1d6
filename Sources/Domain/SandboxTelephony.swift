import Foundation
import HTTPClient

/// The `TelephonyProvider` adapter for `redial sandbox` (and any carrier speaking its protocol).
public struct SandboxTelephony: TelephonyProvider {
    public let baseURL: String
    let client = HTTPClient()

    public init(baseURL: String) { self.baseURL = baseURL }

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
                          callbackURL: String) async throws(ProviderError) -> ProviderCall {
        let body = (try? JSONSerialization.data(withJSONObject: ["managers": managers, "visitor": visitor, "callback_url": callbackURL]))
            ?? Data()
        let response = try await send(HTTPClientRequest(
            method: "POST", url: baseURL + "/v1/calls",
            headers: [("Content-Type", "application/json"), ("Idempotency-Key", idempotencyKey)],
            body: Array(body), timeout: .seconds(15)))
        switch response.status {
        case 200, 201: return try decode(response)
        case 404, 484: throw .invalidNumber("provider answered \(response.status): \(response.text.prefix(200))")
        default: throw .unavailable("originate answered \(response.status): \(response.text.prefix(200))")
        }
    }

    public func call(id: String) async throws(ProviderError) -> ProviderCall {
        let escaped = id.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? id
        let response = try await send(HTTPClientRequest(url: baseURL + "/v1/calls/" + escaped, timeout: .seconds(10)))
        guard response.status == 200 else { throw .unavailable("call status answered \(response.status)") }
        return try decode(response)
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
        let outcome = body.outcome.flatMap(CallOutcome.init(rawValue:)) ?? body.sipCode.map(CallOutcome.init(sipCode:))
        return ProviderCall(callID: body.callID, finished: body.status == "completed", outcome: body.status == "completed" ? outcome : nil,
                            durationSeconds: body.durationSeconds ?? 0, recordingURL: body.recordingURL)
    }
}
