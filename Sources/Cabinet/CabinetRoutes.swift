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
/// a site gives (`OwnerLinks`), the owner sees the sites of that address only: their balance and
/// its history, their recent callbacks (numbers by their last digits), and their widget's
/// settings, which they change here. Server-rendered; every change is a POST with the session's
/// CSRF token from the cabinet's own origin.
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
    static let recordingLinkLifetime = 600
    private let pages: PageTemplates
    static let cookie = "redial_owner"

    public init(redis: RedisPool, database: PostgresPool, protection: DataProtection, smtpURL: String, mailFrom: String, publicURL: String,
                storage: (any ObjectStorage)?, recordingMaxBytes: Int, logger: Logger) throws {
        self.storage = storage
        self.recordingMaxBytes = recordingMaxBytes
        self.protection = protection
        links = OwnerLinks(database: database)
        sessions = OwnerSessions(redis: redis)
        self.database = database
        sites = SiteStore(database: database, protection: protection)
        mail = SMTPClient(url: smtpURL, timeout: .seconds(15))
        self.mailFrom = mailFrom
        self.publicURL = publicURL
        self.logger = logger
        pages = try PageTemplates([("layout", PackageResources.layout_mustache), ("signin", PackageResources.signin_mustache),
                                   ("home", PackageResources.home_mustache)])
    }

    public func add<Context: RequestContext>(to router: Router<Context>) {
        router.get("/cabinet/cabinet.css") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "max-age=300"],
                     body: .init(byteBuffer: ByteBuffer(bytes: PackageResources.cabinet_css)))
        }
        router.get("/cabinet/sign-in") { _, _ in render("signin", title: "Sign in") }
        router.post("/cabinet/sign-in") { request, _ in try await askForLink(request) }
        router.get("/cabinet/link") { request, _ in try await follow(request) }
        router.get("/cabinet") { request, _ in
            guard let (_, session) = try await signedIn(request) else { return Self.redirect("/cabinet/sign-in") }
            return try await home(session, notice: request.uri.queryParameters.get("done"))
        }
        router.post("/cabinet/widget") { request, _ in try await saveWidget(request) }
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

    /// The ids of the active sites giving the owner's address.
    private func owned(_ email: String) async throws -> [String] {
        try await database.query("SELECT id::text AS id FROM sites WHERE lower(email) = lower($1) AND active ORDER BY created_at", [email])
            .map { try $0.decode("id", as: String.self) }
    }

    private func home(_ session: OwnerSessions.Session, notice: String? = nil) async throws -> Response {
        var values: [[String: Any]] = []
        let ledger = BalanceLedger(database: database)
        for id in try await owned(session.email) {
            guard let site = try await sites.find(id: id) else { continue }
            let callbacks = try await database.query("""
                SELECT c.id::text AS id, to_char(c.created_at, 'YYYY-MM-DD HH24:MI') AS created, c.status, coalesce(c.phone_tail, '') AS tail,
                       (SELECT count(*)::int FROM attempts a WHERE a.callback_id = c.id) AS attempts,
                       EXISTS (SELECT 1 FROM recordings r WHERE r.callback_id = c.id AND r.deleted_at IS NULL) AS recorded
                FROM callbacks c WHERE c.site_id = $1::uuid ORDER BY c.created_at DESC LIMIT 20
                """, [id]).map { row -> [String: Any] in
                var value: [String: Any] = [
                    "created": try row.decode("created", as: String.self), "status": try row.decode("status", as: String.self),
                    "tail": try row.decode("tail", as: String.self), "attempts": try row.decode("attempts", as: Int.self)]
                if try row.decode("recorded", as: Bool.self) { value["recording"] = recordingLink(try row.decode("id")) }
                return value
            }
            let entries = try await ledger.entries(siteID: id).suffix(20).reversed().map { entry -> [String: Any] in
                ["at": String(entry.createdAt.prefix(16)), "kind": entry.kind.rawValue.replacingOccurrences(of: "_", with: " "),
                 "minutes": entry.minutes > 0 ? "+\(entry.minutes)" : String(entry.minutes)]
            }
            var value: [String: Any] = [
                "id": site.id, "name": site.name, "balance": site.balanceMinutes, "language": site.language, "timezone": site.timeZone.identifier,
                "callbacks": callbacks, "hasCallbacks": !callbacks.isEmpty, "ledger": Array(entries),
                "color": site.widget.color, "right": site.widget.position == .right, "left": site.widget.position == .left,
            ]
            value["button_text"] = site.widget.buttonText
            value["open_after_s"] = site.widget.openAfterSeconds
            values.append(value)
        }
        let announcements = try await Announcements(database: database).current().map { ["title": $0.title, "body": $0.body] }
        return render("home", title: "Your sites", csrf: session.csrf, values: ["sites": values, "announcements": announcements], notice: notice)
    }

    private func saveWidget(_ request: Request) async throws -> Response {
        let form = try await ServerForms.form(request)
        guard let (_, session) = try await signedIn(request) else {
            return render("signin", title: "Sign in", problem: "Refused: sign in first.", status: .unauthorized)
        }
        guard ServerForms.sameOrigin(request), let csrf = form["csrf"],
              ConstantTime.equal(Array(csrf.utf8), Array(session.csrf.utf8)) else {
            return render("signin", title: "Sign in", problem: "Refused: the form did not come from this cabinet.", status: .forbidden)
        }
        let id = form["site"] ?? ""
        guard try await owned(session.email).contains(id), var settings = try await sites.find(id: id)?.widget else {
            return render("signin", title: "Not yours", csrf: session.csrf, problem: "No site of yours has that id.", status: .notFound)
        }
        settings.color = form["color"] ?? settings.color
        settings.position = WidgetSettings.Position(rawValue: form["position"] ?? "") ?? settings.position
        let text = (form["button_text"] ?? "").trimmingCharacters(in: .whitespaces)
        settings.buttonText = text.isEmpty ? nil : text
        let delay = (form["open_after_s"] ?? "").trimmingCharacters(in: .whitespaces)
        do {
            guard delay.isEmpty || Int(delay) != nil else {
                throw DomainError(.invalid, "open_after_s: expected whole seconds, got '\(delay.prefix(20))'", field: "widget")
            }
            settings.openAfterSeconds = Int(delay)
            _ = try await sites.setWidget(id: id, settings)
        } catch let error as DomainError {
            return render("signin", title: "Not saved", csrf: session.csrf, problem: "Not saved: \(error.message)", status: .badRequest)
        }
        logger.notice("cabinet: \(session.email) changed the widget of site \(id)")
        return Self.redirect("/cabinet?done=" + ("widget saved".addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? ""))
    }

    /// A link that plays a callback's recording for `recordingLinkLifetime` seconds: its expiry
    /// signed with the lookup key, so any API process honours it and no one can forge or extend it.
    func recordingLink(_ callbackID: String, now: Date = Date()) -> String {
        let expires = Int(now.timeIntervalSince1970) + Self.recordingLinkLifetime
        return "/cabinet/recordings/\(callbackID)?expires=\(expires)&sig=\(protection.lookup("cabinet-recording:\(callbackID):\(expires)"))"
    }

    private func recording(_ request: Request, id: String) async throws -> Response {
        let expires = Int(request.uri.queryParameters.get("expires") ?? "") ?? 0
        let signature = request.uri.queryParameters.get("sig") ?? ""
        let expected = protection.lookup("cabinet-recording:\(id):\(expires)")
        guard ConstantTime.equal(Array(signature.utf8), Array(expected.utf8)) else {
            return Response(status: .forbidden, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: "not a link this cabinet gave\n")))
        }
        guard expires >= Int(Date().timeIntervalSince1970) else {
            return Response(status: .forbidden, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: "this link has expired: reload the cabinet\n")))
        }
        guard let storage, UUID(uuidString: id) != nil, let key = try await database.query("""
            SELECT object_key FROM recordings WHERE callback_id = $1::uuid AND deleted_at IS NULL ORDER BY attempt DESC LIMIT 1
            """, [id]).first.map({ try $0.decode("object_key", as: String.self) }) else {
            return Response(status: .notFound, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: "no recording\n")))
        }
        let bytes = try await storage.get(key, maxBytes: recordingMaxBytes)
        let type = key.hasSuffix(".mp3") ? "audio/mpeg" : key.hasSuffix(".wav") ? "audio/wav" : "application/octet-stream"
        return Response(status: .ok, headers: [.contentType: type, .cacheControl: "private, no-store"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    private func render(_ page: String, title: String, csrf: String? = nil, values: [String: Any] = [:], notice: String? = nil,
                        problem: String? = nil, status: HTTPResponse.Status = .ok) -> Response {
        pages.render(page, title: title, csrf: csrf, values: values, notice: notice, problem: problem, status: status)
    }

    private static func redirect(_ path: String) -> Response {
        Response(status: .seeOther, headers: [.location: path])
    }
}
