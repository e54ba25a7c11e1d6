import Foundation
import HTTPClient

/// The `SMSGateway` adapter for `redial sandbox`'s gateway (`POST /v1/sms`).
public struct SandboxSMS: SMSGateway {
    public let baseURL: String
    let client = HTTPClient()

    public init(baseURL: String) { self.baseURL = baseURL }

    public func send(to: String, text: String, idempotencyKey: String) async throws(ProviderError) -> String {
        let body = (try? JSONSerialization.data(withJSONObject: ["to": to, "text": text])) ?? Data()
        let response: HTTPClientResponse
        do {
            response = try await client.send(HTTPClientRequest(
                method: "POST", url: baseURL + "/v1/sms",
                headers: [("Content-Type", "application/json"), ("Idempotency-Key", idempotencyKey)], body: Array(body)))
        } catch {
            throw .unavailable("\(error)")
        }
        guard (200..<300).contains(response.status),
              let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
              let id = object["sms_id"] as? String else {
            if response.status == 400 { throw .invalidNumber("gateway refused: \(response.text.prefix(200))") }
            throw .unavailable("SMS gateway answered \(response.status): \(response.text.prefix(200))")
        }
        return id
    }

    public func status(id: String) async throws(ProviderError) -> DeliveryStatus {
        let response: HTTPClientResponse
        do {
            response = try await client.send(HTTPClientRequest(url: baseURL + "/v1/sms/" + id))
        } catch {
            throw .unavailable("\(error)")
        }
        guard response.status == 200, let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
              let text = object["status"] as? String, let state = DeliveryStatus.State(rawValue: text) else {
            throw .unavailable("SMS gateway answered \(response.status) for \(id): \(response.text.prefix(200))")
        }
        return DeliveryStatus(state, detail: object["detail"] as? String)
    }
}
