import Foundation
import HTTPClient

/// The sandbox's payments (`redial sandbox`, `POST /v1/payments`): a checkout is paid at once,
/// and the sandbox posts `payment.succeeded`, signed like its call webhooks, to the notify URL.
/// A real provider's adapter would map its own checkout and events onto the same protocol.
public struct SandboxPayments: PaymentProvider {
    let baseURL: String
    let webhookSecrets: [[UInt8]]

    public init(baseURL: String, webhookSecret: String, previousWebhookSecret: String? = nil) {
        self.baseURL = baseURL
        webhookSecrets = [webhookSecret, previousWebhookSecret].compactMap { $0.map { Array($0.utf8) } }
    }

    struct Wire: Codable {
        var eventID: String?
        var paymentID: String
        var siteID: String
        var minutes: Int

        enum CodingKeys: String, CodingKey {
            case eventID = "event_id", paymentID = "payment_id", siteID = "site_id", minutes
        }
    }

    /// The answer to a checkout's opening.
    struct Opened: Codable {
        var paymentID: String
        var checkoutURL: String

        enum CodingKeys: String, CodingKey {
            case paymentID = "payment_id", checkoutURL = "checkout_url"
        }
    }

    public func checkout(siteID: String, minutes: Int, notifyURL: String, returnURL: String) async throws -> PaymentCheckout {
        let body = try JSONSerialization.data(withJSONObject: ["site_id": siteID, "minutes": minutes, "notify_url": notifyURL,
                                                               "return_url": returnURL])
        let response = try await HTTPClient().send(HTTPClientRequest(method: "POST", url: baseURL + "/v1/payments",
                                                                     headers: [("Content-Type", "application/json")], body: Array(body),
                                                                     timeout: .seconds(15)))
        guard response.status == 201, let opened = try? JSONDecoder().decode(Opened.self, from: Data(response.body)) else {
            throw ProviderError.unavailable("the payment provider answered \(response.status): \(response.text.prefix(200))")
        }
        return PaymentCheckout(paymentID: opened.paymentID, url: opened.checkoutURL)
    }

    public func event(fromWebhook body: [UInt8], signature: String?, now: Date) throws(WebhookRejection) -> PaymentEvent {
        _ = try SandboxWire.verifiedMAC(of: body, signature: signature, secrets: webhookSecrets, now: now)
        guard let wire = try? JSONDecoder().decode(Wire.self, from: Data(body)), !wire.paymentID.isEmpty, wire.paymentID.utf8.count <= 100,
              UUID(uuidString: wire.siteID) != nil, (1...1_000_000).contains(wire.minutes) else {
            throw .malformedEvent("expected a JSON event with payment_id, site_id and minutes (1-1000000)")
        }
        return PaymentEvent(paymentID: wire.paymentID, siteID: wire.siteID, minutes: wire.minutes)
    }
}
