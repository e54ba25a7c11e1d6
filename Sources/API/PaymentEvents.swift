import Domain
import Foundation
import HTTPTypes
import Hummingbird
import PostgresClient
import Providers

/// `POST /v1/payments/events`: the payment provider's signed webhook. A payment credits its
/// site's minutes once (`BalanceLedger.topUp`, keyed by the payment's id): the provider may
/// deliver an event twice, and the second is answered 200 and credits nothing.
struct PaymentEvents: Sendable {
    let provider: any PaymentProvider
    let database: PostgresPool

    func add(to router: Router<APIContext>) {
        router.post("/v1/payments/events") { request, _ in try await receive(request) }
    }

    func receive(_ request: Request) async throws -> Response {
        let body = try await request.body.collect(upTo: 16 * 1024)
        let event: PaymentEvent
        do {
            event = try provider.event(fromWebhook: Array(body.readableBytesView), signature: request.headers[TelephonyEvents.signature], now: Date())
        } catch {
            if case .malformedEvent = error { throw APIError(.badRequest, error.code, error.message) }
            throw APIError(.unauthorized, error.code, error.message)
        }
        let credited: Bool
        do {
            credited = try await BalanceLedger(database: database).topUp(siteID: event.siteID, minutes: event.minutes, paymentID: event.paymentID)
        } catch let error as DomainError where error.code == .notFound {
            throw APIError(.notFound, "unknown_site", error.message)
        }
        return try CallbackRoutes.json(.ok, ["status": credited ? "credited" : "already_credited"])
    }
}
