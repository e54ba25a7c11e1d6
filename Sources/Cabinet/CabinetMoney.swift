import Domain
import Foundation
import Hummingbird
import Logging
import Providers

/// Paying for minutes and redeeming promo codes from the cabinet. A top-up opens the provider's
/// checkout and sends the owner there; the minutes arrive with the provider's signed event
/// (`POST /v1/payments/events`), credited once per payment however often it is delivered.
extension CabinetRoutes {
    func topUp(_ form: [String: String], _ site: Site, _ session: OwnerSessions.Session) async throws -> Response {
        guard let payments else { throw DomainError(.unavailable, "payments are not set up here", field: "top-up") }
        guard let minutes = Int(form["minutes"] ?? ""), Self.topUps.contains(minutes) else {
            throw DomainError(.invalid, "minutes: expected one of \(Self.topUps.map(String.init).joined(separator: ", "))", field: "minutes")
        }
        let back = publicURL + "/cabinet/sites/\(site.id)?done=" + ("Paid: the minutes show once the payment is confirmed".addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
        let checkout: PaymentCheckout
        do {
            checkout = try await payments.checkout(siteID: site.id, minutes: minutes, notifyURL: publicURL + "/v1/payments/events", returnURL: back)
        } catch {
            logger.error("cabinet: a checkout for site \(site.id) could not be opened: \(error)")
            throw DomainError(.unavailable, "the payment provider cannot be reached just now; try again in a minute", field: "top-up")
        }
        logger.notice("cabinet: \(session.email) opened checkout \(checkout.paymentID) for \(minutes) minutes of site \(site.id)")
        return Self.redirect(checkout.url)
    }

    func redeemPromo(_ form: [String: String], _ site: Site, _ session: OwnerSessions.Session) async throws -> Response {
        let code = (form["code"] ?? "").trimmingCharacters(in: .whitespaces)
        switch try await BalanceLedger(database: database).redeem(siteID: site.id, code: code) {
        case .credited(let minutes):
            logger.notice("cabinet: \(session.email) redeemed a promo code for site \(site.id): \(minutes) minutes")
            return Self.done(site, "promo code redeemed: +\(minutes) minutes")
        case .alreadyUsed: throw DomainError(.conflict, "promo code: this site has used it already", field: "code")
        case .expired: throw DomainError(.invalid, "promo code: it has expired", field: "code")
        case .unknown: throw DomainError(.invalid, "promo code: there is no such code", field: "code")
        }
    }
}
