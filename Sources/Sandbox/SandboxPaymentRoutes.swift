import Foundation
import HTTPClient
import Hummingbird
import Logging
import Providers

/// The sandbox's payment provider: `POST /v1/payments` opens a checkout that is paid at once;
/// `payment.succeeded` goes to its notify URL, signed like the call webhooks, retried until
/// answered 2xx, and twice when `duplicate_payment_events` is on.
extension SandboxServer {
    struct PaymentRequest: Decodable {
        let siteID: String
        let minutes: Int
        let notifyURL: String

        enum CodingKeys: String, CodingKey {
            case siteID = "site_id", minutes, notifyURL = "notify_url"
        }
    }

    func pay(_ request: Request) async throws -> Response {
        let body = try await request.body.collect(upTo: 16 * 1024)
        guard let input = try? JSONDecoder().decode(PaymentRequest.self, from: Data(body.readableBytesView)),
              (1...1_000_000).contains(input.minutes), input.notifyURL.hasPrefix("http") else {
            return try Self.json(.badRequest, ["error": "expected {\"site_id\", \"minutes\": 1-1000000, \"notify_url\": \"http…\"}"])
        }
        let id = "pay_" + UUID().uuidString.lowercased()
        let event: [String: Any] = ["event_id": "evt_\(id)", "type": "payment.succeeded", "payment_id": id, "site_id": input.siteID,
                                    "minutes": input.minutes]
        let payload = Array(try JSONSerialization.data(withJSONObject: event, options: [.sortedKeys]))
        let times = await state.faults.duplicatePaymentEvents ? 2 : 1
        Task {
            for _ in 0..<times { await deliverPayment(id, payload, to: input.notifyURL) }
        }
        return try Self.json(.created, ["payment_id": id, "checkout_url": "http://\(configuration.host):\(configuration.port)/sandbox/checkout/\(id)"])
    }

    private func deliverPayment(_ id: String, _ body: [UInt8], to url: String) async {
        if await deliverSigned(body, to: url) {
            await state.delivered(payment: id)
        } else {
            logger.warning("payment event for \(id) not delivered to \(url)")
        }
    }
}
