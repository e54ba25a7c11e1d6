import Console
import CryptoPrimitives
import Domain
import Foundation
import HTTPClient
import HTTPTypes
import Hummingbird
import Logging
import PostgresClient
import Providers
import RedisClient

/// The site owner's cabinet at `/cabinet`: signed in by a one-time link mailed to the address
/// a site gives (`OwnerLinks`), the owner sees the sites of that address only. Each site's page
/// has its callbacks (recordings played through short-lived signed links), its balance with its
/// history, a top-up, promo codes and the referral code, its reports, and its settings: the
/// widget (with a live preview), working hours, managers, limits and notifications.
/// Server-rendered; every change is a POST with the session's CSRF token from the cabinet's own
/// origin, about a site of the owner's.
public struct CabinetRoutes: Sendable {
    let links: OwnerLinks
    let sessions: OwnerSessions
    let database: PostgresPool
    let sites: SiteStore
    let mail: SMTPClient
    let mailFrom: String
    let publicURL: String
    let logger: Logger
    /// Where recordings are (played through short-lived signed URLs), and the key that signs them.
    let storage: (any ObjectStorage)?
    let recordingMaxBytes: Int
    let protection: DataProtection
    /// Where owners pay for minutes; nil: the cabinet offers no top-up.
    let payments: (any PaymentProvider)?
    let pages: PageTemplates
    static let cookie = "redial_owner"

    public init(redis: RedisPool, database: PostgresPool, protection: DataProtection, smtpURL: String, mailFrom: String, publicURL: String,
                storage: (any ObjectStorage)?, recordingMaxBytes: Int, payments: (any PaymentProvider)?, logger: Logger) throws {
        self.storage = storage
        self.recordingMaxBytes = recordingMaxBytes
        self.protection = protection
        self.payments = payments
        links = OwnerLinks(database: database)
        sessions = OwnerSessions(redis: redis)
        self.database = database
        sites = SiteStore(database: database, protection: protection)
        mail = SMTPClient(url: smtpURL, timeout: .seconds(15))
        self.mailFrom = mailFrom
        self.publicURL = publicURL
        self.logger = logger
        pages = try PageTemplates([("layout", PackageResources.layout_mustache), ("signin", PackageResources.signin_mustache),
                                   ("home", PackageResources.home_mustache), ("site", PackageResources.site_mustache),
                                   ("reports", PackageResources.reports_mustache), ("problem", PackageResources.problem_mustache)])
    }

    public func add<Context: RequestContext>(to router: Router<Context>) {
        router.get("/cabinet/cabinet.css") { _, _ in Self.asset(PackageResources.cabinet_css, "text/css; charset=utf-8") }
        router.get("/cabinet/cabinet.js") { _, _ in Self.asset(PackageResources.cabinet_js, "application/javascript; charset=utf-8") }
        router.get("/cabinet/sign-in") { _, _ in render("signin", title: "Sign in") }
        router.post("/cabinet/sign-in") { request, _ in try await askForLink(request) }
        router.get("/cabinet/link") { request, _ in try await follow(request) }
        router.get("/cabinet") { request, _ in
            guard let (_, session) = try await signedIn(request) else { return Self.redirect("/cabinet/sign-in") }
            return try await home(session)
        }
        router.get("/cabinet/sites/{id}") { request, context in
            try await viewing(request, id: context.parameters.get("id") ?? "") { site, session in
                try await sitePage(site, session, notice: request.uri.queryParameters.get("done"))
            }
        }
        router.get("/cabinet/sites/{id}/reports") { request, context in
            try await viewing(request, id: context.parameters.get("id") ?? "") { site, session in try await reportsPage(site, session) }
        }
        router.get("/cabinet/sites/{id}/report.csv") { request, context in
            try await viewing(request, id: context.parameters.get("id") ?? "") { site, _ in try await reportCSV(site, request) }
        }
        for kind in SiteChange.allCases {
            router.post("/cabinet/sites/{id}/\(kind.rawValue)") { request, context in
                try await change(request, id: context.parameters.get("id") ?? "", kind)
            }
        }
        router.get("/cabinet/recordings/{id}") { request, context in try await recording(request, id: context.parameters.get("id") ?? "") }
        router.post("/cabinet/sign-out") { request, _ in
            if let (id, _) = try await signedIn(request) { try await sessions.end(id: id) }
            return Response(status: .seeOther, headers: [.location: "/cabinet/sign-in", .setCookie: "\(Self.cookie)=; Path=/cabinet; HttpOnly; SameSite=Lax; Max-Age=0"])
        }
    }

    private func askForLink(_ request: Request) async throws -> Response {
        let form = try await ServerForms.form(request)
        guard ServerForms.sameOrigin(request) else { return render("signin", title: "Sign in", problem: "Refused: the form came from another origin.", status: .forbidden) }
        let email = (form["email"] ?? "").trimmingCharacters(in: .whitespaces)
        guard email.contains("@"), email.utf8.count <= 254, !email.contains(where: { $0.isWhitespace || $0.isNewline }) else {
            return render("signin", title: "Sign in", problem: "Enter an email address.", status: .badRequest)
        }
        if let token = try await links.issue(email: email) {
            let link = publicURL + "/cabinet/link?token=" + token
            let message = MailMessage(from: mailFrom, fromName: "Redial", to: [email], subject: "Your Redial sign-in link",
                                      text: "Sign in to your Redial cabinet: \(link)\n\nThe link works once, for 15 minutes. "
                                          + "If you did not ask for it, ignore this message.\n",
                                      messageID: "<cabinet-\(try SecureRandom.token(byteCount: 12))@redial>")
            do {
                try await mail.send(from: mailFrom, to: [email], message: message.rendered())
            } catch {
                logger.error("cabinet: the sign-in link to an owner could not be sent: \(error)")
                return render("signin", title: "Sign in", problem: "The link could not be sent just now; try again in a minute.",
                              status: .serviceUnavailable)
            }
        }
        // The same answer for any address: the form tells no one whose address it is.
        return render("signin", title: "Check your mail",
                      notice: "If a site gives \(email) as its address, a sign-in link is on its way (good once, for 15 minutes).")
    }

    private func follow(_ request: Request) async throws -> Response {
        guard let email = try await links.redeem(token: request.uri.queryParameters.get("token") ?? "") else {
            return render("signin", title: "Sign in", problem: "This link was used before or has expired: ask for a new one.", status: .gone)
        }
        let id = try await sessions.start(email: email)
        return Response(status: .seeOther, headers: [
            .location: "/cabinet",
            .setCookie: "\(Self.cookie)=\(id); Path=/cabinet; HttpOnly; SameSite=Lax; Max-Age=\(OwnerSessions.lifetime.components.seconds)",
        ])
    }

    private func signedIn(_ request: Request) async throws -> (String, OwnerSessions.Session)? {
        guard let id = ServerForms.cookie(Self.cookie, in: request), let session = try await sessions.session(id: id) else { return nil }
        return (id, session)
    }

    /// The owner's site `id` if it is one of the active sites giving their address, else nil.
    private func site(_ id: String, of session: OwnerSessions.Session) async throws -> Site? {
        guard let site = try await sites.find(id: id), site.active, site.email?.lowercased() == session.email.lowercased() else { return nil }
        return site
    }

    private func home(_ session: OwnerSessions.Session) async throws -> Response {
        let owned = try await database.query("""
            SELECT id::text AS id, name, balance_minutes FROM sites WHERE lower(email) = lower($1) AND active ORDER BY created_at
            """, [session.email]).map { row -> [String: Any] in
            ["id": try row.decode("id", as: String.self), "name": try row.decode("name", as: String.self),
             "balance": try row.decode("balance_minutes", as: Int.self)]
        }
        let announcements = try await Announcements(database: database).current().map { ["title": $0.title, "body": $0.body] }
        return render("home", title: "Your sites", csrf: session.csrf,
                      values: ["sites": owned, "hasSites": !owned.isEmpty, "announcements": announcements])
    }

    /// A page about one of the owner's sites; any other id (or none signed in) is refused.
    private func viewing(_ request: Request, id: String,
                         _ page: (Site, OwnerSessions.Session) async throws -> Response) async throws -> Response {
        guard let (_, session) = try await signedIn(request) else { return Self.redirect("/cabinet/sign-in") }
        guard let site = try await site(id, of: session) else {
            return problem("Not yours", "No site of yours has that id.", back: "/cabinet", session, .notFound)
        }
        return try await page(site, session)
    }

    /// What an owner can change about a site, each posted to `/cabinet/sites/{id}/<raw value>`.
    enum SiteChange: String, CaseIterable {
        case widget, hours, managers, limits, notifications, topUp = "top-up", promo
    }

    /// A change an owner posts about one of their sites: refused unless signed in, posted from
    /// this cabinet with the session's token, about a site of theirs. A `DomainError` shows as
    /// "Not saved" naming the field, and nothing is changed.
    private func change(_ request: Request, id: String, _ kind: SiteChange) async throws -> Response {
        let form = try await ServerForms.form(request)
        guard let (_, session) = try await signedIn(request) else {
            return render("signin", title: "Sign in", problem: "Refused: sign in first.", status: .unauthorized)
        }
        guard ServerForms.sameOrigin(request), let csrf = form["csrf"], ConstantTime.equal(Array(csrf.utf8), Array(session.csrf.utf8)) else {
            return render("signin", title: "Sign in", problem: "Refused: the form did not come from this cabinet.", status: .forbidden)
        }
        guard let site = try await site(id, of: session) else {
            return problem("Not yours", "No site of yours has that id.", back: "/cabinet", session, .notFound)
        }
        do {
            switch kind {
            case .widget: return try await saveWidget(form, site, session)
            case .hours: return try await saveHours(form, site, session)
            case .managers: return try await saveManagers(form, site, session)
            case .limits: return try await saveLimits(form, site, session)
            case .notifications: return try await saveNotifications(form, site, session)
            case .topUp: return try await topUp(form, site, session)
            case .promo: return try await redeemPromo(form, site, session)
            }
        } catch let error as DomainError {
            let status: HTTPResponse.Status = error.code == .unavailable ? .serviceUnavailable : error.code == .conflict ? .conflict : .badRequest
            return problem("Not saved", "Not saved: \(error.message).", back: "/cabinet/sites/\(site.id)", session, status)
        }
    }

    /// Back to the site's page after a change, saying what was done.
    static func done(_ site: Site, _ notice: String) -> Response {
        redirect("/cabinet/sites/\(site.id)?done=" + (notice.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""))
    }

    func render(_ page: String, title: String, csrf: String? = nil, values: [String: Any] = [:], notice: String? = nil,
                problem: String? = nil, status: HTTPResponse.Status = .ok) -> Response {
        pages.render(page, title: title, csrf: csrf, values: values, notice: notice, problem: problem, status: status)
    }

    /// A page saying what went wrong to a signed-in owner, with the way back.
    private func problem(_ title: String, _ text: String, back: String, _ session: OwnerSessions.Session,
                         _ status: HTTPResponse.Status) -> Response {
        render("problem", title: title, csrf: session.csrf, values: ["heading": title, "back": back], problem: text, status: status)
    }

    static func redirect(_ path: String) -> Response {
        Response(status: .seeOther, headers: [.location: path])
    }

    private static func asset(_ bytes: [UInt8], _ type: String) -> Response {
        Response(status: .ok, headers: [.contentType: type, .cacheControl: "max-age=300"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
