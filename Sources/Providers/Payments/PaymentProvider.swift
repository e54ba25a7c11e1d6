import Foundation

/// A checkout the payment provider opened: the owner pays at `url`; the provider then reports
/// the payment by a signed webhook (`PaymentEvent`), possibly more than once.
public struct PaymentCheckout: Sendable, Equatable {
    public let paymentID: String
    public let url: String

    public init(paymentID: String, url: String) {
        self.paymentID = paymentID
        self.url = url
    }
}

/// A payment the provider says succeeded: `minutes` bought for `siteID`.
public struct PaymentEvent: Sendable, Equatable {
    public let paymentID: String
    public let siteID: String
    public let minutes: Int
}

/// Where owners pay for call minutes. The ledger credits a payment by its id, so an event the
/// provider delivers twice credits once.
public protocol PaymentProvider: Sendable {
    /// Opens a checkout for `minutes` of `siteID`; the provider reports it to `notifyURL` and
    /// sends the payer back to `returnURL`.
    func checkout(siteID: String, minutes: Int, notifyURL: String, returnURL: String) async throws -> PaymentCheckout
    /// A webhook's payment, if its signature holds; the rejection names what is wrong.
    func event(fromWebhook body: [UInt8], signature: String?, now: Date) throws(WebhookRejection) -> PaymentEvent
}
