import Foundation
import HTTPClient
import Hummingbird
import Logging
import Providers

/// The sandbox's payment provider: `POST /v1/payments` opens a checkout that is paid at once;
/// `payment.succeeded` goes to its notify URL, signed like the call webhooks, retried until
/// answered 2xx, and twice when `duplicate_payment_events` is on. The checkout's page
/// (`GET /sandbox/checkout/{id}`) says so and links back to the return URL.
extension SandboxServer {
    struct PaymentRequest: Decodable {
        let siteID: String
        let minutes: Int
        let notifyURL: String
        let returnURL: String?

        enum CodingKeys: String, CodingKey {
            case siteID = "site_id", minutes, notifyURL = "notify_url", returnURL = "return_url"
        }
    }

    func pay(_ request: Request) async throws -> Response {
        let body = try await request.body.collect(upTo: 16 * 1024)
        guard let input = try? JSONDecoder().decode(PaymentRequest.self, from: Data(body.readableBytesView)),
              (1...1_000_000).contains(input.minutes), input.notifyURL.hasPrefix("http"), input.returnURL?.hasPrefix("http") != false else {
            return try Self.json(.badRequest, ["error": "expected {\"site_id\", \"minutes\": 1-1000000, \"notify_url\": \"http…\", \"return_url\"?: \"http…\"}"])
        }
        let id = "pay_" + UUID().uuidString.lowercased()
        await state.opened(checkout: id, minutes: input.minutes, returnURL: input.returnURL)
        let event: [String: Any] = ["event_id": "evt_\(id)", "type": "payment.succeeded", "payment_id": id, "site_id": input.siteID,
                                    "minutes": input.minutes]
        let payload = Array(try JSONSerialization.data(withJSONObject: event, options: [.sortedKeys]))
        let times = await state.faults.duplicatePaymentEvents ? 2 : 1
        Task {
            for _ in 0..<times { await deliverPayment(id, payload, to: input.notifyURL) }
        }
        return try Self.json(.created, ["payment_id": id, "checkout_url": "http://\(configuration.host):\(configuration.port)/sandbox/checkout/\(id)"])
    }

    /// The page a payer is sent to: paid already (the sandbox takes no card), with a way back.
    func checkoutPage(id: String) async -> Response {
        guard let checkout = await state.checkouts[id] else {
            return Response(status: .notFound, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: "no such checkout\n")))
        }
        func escaped(_ text: String) -> String {
            text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "\"", with: "&quot;").replacingOccurrences(of: "<", with: "&lt;")
        }
        let back = checkout.returnURL.map { "<p><a id=\"return\" href=\"\(escaped($0))\">Back to the shop</a></p>" } ?? ""
        let html = "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>Sandbox checkout</title>"
            + "<h1>Paid</h1><p id=\"paid\">\(checkout.minutes) minutes, payment \(escaped(id)) (sandbox: paid at once, no card taken).</p>\(back)</html>"
        return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    private func deliverPayment(_ id: String, _ body: [UInt8], to url: String) async {
        if await deliverSigned(body, to: url) {
            await state.delivered(payment: id)
        } else {
            logger.warning("payment event for \(id) not delivered to \(url)")
        }
    }
}
