import Domain
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Settings

/// `POST /v1/callbacks` and `GET /v1/callbacks/{id}` (docs/contract.md). Checks run in this order:
/// site key, body size, content type, JSON syntax, field validation, replays, balance, limits;
/// a malformed request is answered for what is wrong with it, never 429.
struct CallbackRoutes: Sendable {
    let sites: SiteKeyCache
    let callbacks: CallbackStore
    let limiter: IntakeLimiter
    let trustedProxies: [NetworkRange]
    let deniedPrefixes: [String]

    static let maximumBody = 16 * 1024
    static let siteKey = HTTPField.Name("X-Site-Key")!
    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
    static let forwardedFor = HTTPField.Name("X-Forwarded-For")!

    func add(to router: Router<APIContext>) {
        router.post("/v1/callbacks") { request, context in try await create(request, context) }
        router.get("/v1/callbacks/{id}") { request, context in try await show(request, context) }
    }

    func site(_ request: Request) async throws -> Site {
        try await Self.site(request, sites)
    }

    /// The active site of the request's `X-Site-Key`, or the error to answer.
    static func site(_ request: Request, _ sites: SiteKeyCache) async throws -> Site {
        guard let key = request.headers[Self.siteKey], !key.isEmpty else {
            throw APIError(.unauthorized, "missing_site_key", "the X-Site-Key header is required")
        }
        guard let site = try await sites.find(key: key) else {
            throw APIError(.unauthorized, "unknown_site_key", "no active site has this X-Site-Key")
        }
        return site
    }

    /// Refuses a request from a page the site does not run its widget on.
    static func checkOrigin(_ request: Request, _ site: Site) throws {
        guard site.allows(origin: request.headers[.origin]) else {
            throw APIError(.forbidden, "origin_not_allowed", "this site's widget does not run on \(request.headers[.origin].map { "'\($0.prefix(100))'" } ?? "a page without an Origin")")
        }
    }

    struct Accepted: Encodable {
        let id: String
        let status: String
    }

    func create(_ request: Request, _ context: APIContext) async throws -> Response {
        let site = try await site(request)
        try Self.checkOrigin(request, site)
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > Self.maximumBody {
            throw APIError(.contentTooLarge, "body_too_large", "the body has \(length) bytes; at most \(Self.maximumBody) are accepted")
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: Self.maximumBody)
        } catch {
            throw APIError(.contentTooLarge, "body_too_large", "the body is over \(Self.maximumBody) bytes")
        }
        let type = request.headers[.contentType]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
        guard type == "application/json" else {
            throw APIError(.unsupportedMediaType, "unsupported_media_type",
                           "send the body as application/json, not \(type.map { "'\($0)'" } ?? "without a Content-Type")")
        }
        let input = try CallbackInput(parsing: Data(body.readableBytesView), defaultCountryCode: site.defaultCountryCode,
                                      servedCountryCodes: site.servedCountryCodes, deniedPrefixes: deniedPrefixes,
                                      idempotencyKey: request.headers[Self.idempotencyKey])
        if let existing = try await callbacks.existing(siteID: site.id, phone: input.phone, idempotencyKey: input.idempotencyKey) {
            return try Self.answer(existing)
        }
        guard site.balanceMinutes > 0 else {
            throw APIError(.init(code: 402, reasonPhrase: "Payment Required"), "no_balance", "this site has no call minutes left; the owner must top up")
        }
        let client = ClientAddress.group(
            ClientAddress.resolve(peer: context.peer, forwardedFor: request.headers[Self.forwardedFor], trusted: trustedProxies))
        switch await limiter.check(site: site, phone: input.phone, client: client) {
        case .refused(let limit, let seconds):
            var error = APIError(.tooManyRequests, "rate_limited", "too many callback requests (\(limit)); retry in \(seconds) s")
            error.headers[HTTPField.Name("Retry-After")!] = String(seconds)
            throw error
        case .unavailable:
            var error = APIError(.serviceUnavailable, "limits_unavailable", "the abuse limits cannot be checked right now; retry shortly")
            error.headers[HTTPField.Name("Retry-After")!] = "5"
            throw error
        case .allowed:
            break
        }
        let created = try await callbacks.create(siteID: site.id, .init(
            phone: input.phone, name: input.name, pageURL: input.pageURL, callAt: input.callAt,
            idempotencyKey: input.idempotencyKey, clientAddress: client))
        return try Self.answer(created)
    }

    static func answer(_ created: CallbackStore.Created) throws -> Response {
        switch created {
        case .created(let id, let status): try json(.accepted, Accepted(id: id, status: status.rawValue))
        case .existing(let id, let status): try json(.ok, Accepted(id: id, status: status.rawValue))
        }
    }

    struct Shown: Encodable {
        struct Try: Encodable {
            let n: Int
            let outcome: String?
            let started_at: String
            let ended_at: String?
        }

        let id: String
        let status: String
        let reason: String?
        let attempts: [Try]
    }

    func show(_ request: Request, _ context: APIContext) async throws -> Response {
        let site = try await site(request)
        let id = context.parameters.get("id") ?? ""
        guard let (callback, attempts) = try await callbacks.find(id: id, siteID: site.id) else {
            throw APIError(.notFound, "not_found", "no callback \(id.prefix(64)) for this site")
        }
        let rfc3339 = ISO8601DateFormatter()
        return try Self.json(.ok, Shown(
            id: callback.id, status: callback.status.rawValue, reason: callback.reason,
            attempts: attempts.map { .init(n: $0.n, outcome: $0.outcome, started_at: rfc3339.string(from: $0.startedAt),
                                           ended_at: $0.endedAt.map(rfc3339.string(from:))) }))
    }

    static func json(_ status: HTTPResponse.Status, _ value: some Encodable) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }
}

/// The checks of a callback request's body and `Idempotency-Key` as `POST /v1/callbacks` runs
/// them for a site of these countries, without a site or a database: the fuzzer's way in. Throws
/// what the API answers 400 with.
public enum IntakeBody {
    public static func check(_ body: [UInt8], defaultCountryCode: String?, servedCountryCodes: [String], deniedPrefixes: [String],
                             idempotencyKey: String?) throws {
        _ = try CallbackInput(parsing: Data(body), defaultCountryCode: defaultCountryCode, servedCountryCodes: servedCountryCodes,
                              deniedPrefixes: deniedPrefixes, idempotencyKey: idempotencyKey)
    }
}

/// The validated fields of a callback request; every problem is a 400 naming its field.
struct CallbackInput {
    let phone: PhoneNumber
    let name: String?
    let pageURL: String?
    let callAt: Date?
    let idempotencyKey: String?

    init(parsing data: Data, defaultCountryCode: String?, servedCountryCodes: [String], deniedPrefixes: [String],
         idempotencyKey: String?) throws {
        let object: [String: Any]
        do {
            guard let parsed = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw APIError(.badRequest, "malformed_json", "the body must be a JSON object")
            }
            object = parsed
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError(.badRequest, "malformed_json", "the body is not valid JSON")
        }
        guard let rawPhone = object["phone"] else { throw APIError.invalid("phone", "phone is required", code: "invalid_phone") }
        guard let text = rawPhone as? String else { throw APIError.invalid("phone", "phone must be a string", code: "invalid_phone") }
        do {
            phone = try PhoneNumber(parsing: text, defaultCountryCode: defaultCountryCode)
        } catch {
            throw APIError.invalid("phone", "phone \(error)", code: "invalid_phone")
        }
        if phone.hasPrefix(in: deniedPrefixes) {
            throw APIError.invalid("phone", "calls to \(phone.e164.prefix(5))… are not allowed (premium-rate or high-risk range)",
                                   code: "number_not_allowed")
        }
        if !servedCountryCodes.isEmpty && !phone.hasPrefix(in: servedCountryCodes.map { "+" + $0 }) {
            throw APIError.invalid("phone", "this site calls back only to +\(servedCountryCodes.joined(separator: ", +"))",
                                   code: "number_not_served")
        }
        name = try Self.optionalText(object, "name", maximum: 100)
        pageURL = try Self.optionalText(object, "page_url", maximum: 2048)
        if let pageURL, !(pageURL.hasPrefix("http://") || pageURL.hasPrefix("https://")) {
            throw APIError.invalid("page_url", "page_url must be an http(s) URL")
        }
        if let text = try Self.optionalText(object, "call_at", maximum: 64) {
            guard let date = Self.parseDate(text) else {
                throw APIError.invalid("call_at", "call_at must be an RFC 3339 time such as 2026-05-01T10:00:00+03:00")
            }
            guard date < Date().addingTimeInterval(30 * 86400) else {
                throw APIError.invalid("call_at", "call_at may be at most 30 days ahead")
            }
            callAt = date
        } else {
            callAt = nil
        }
        if let key = idempotencyKey {
            guard (1...200).contains(key.utf8.count), key.unicodeScalars.allSatisfy({ (0x20..<0x7f).contains($0.value) }) else {
                throw APIError.invalid("Idempotency-Key", "the Idempotency-Key header must be 1-200 printable characters")
            }
        }
        self.idempotencyKey = idempotencyKey
    }

    static func optionalText(_ object: [String: Any], _ field: String, maximum: Int) throws -> String? {
        guard let value = object[field], !(value is NSNull) else { return nil }
        guard let text = value as? String else { throw APIError.invalid(field, "\(field) must be a string") }
        guard text.count <= maximum else { throw APIError.invalid(field, "\(field) may be at most \(maximum) characters") }
        guard !text.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\t" }) else {
            throw APIError.invalid(field, "\(field) contains control characters")
        }
        return text.isEmpty ? nil : text
    }

    static func parseDate(_ text: String) -> Date? {
        let plain = ISO8601DateFormatter()
        if let date = plain.date(from: text) { return date }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return fractional.date(from: text)
    }
}
