import Foundation
import HTTPTypes
import Hummingbird

/// What server-rendered pages with forms need from a request (the console's, the owner's
/// cabinet's): a cookie's value, whether a form post came from the page's own origin, and the
/// posted form's fields.
public enum ServerForms {
    /// Every page: nothing from another origin, no framing, no caching of what it shows.
    public static let pageHeaders: HTTPFields = [
        .contentType: "text/html; charset=utf-8",
        .contentSecurityPolicy: "default-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        .cacheControl: "no-store",
        HTTPField.Name("X-Content-Type-Options")!: "nosniff",
        HTTPField.Name("Referrer-Policy")!: "same-origin",
    ]

    /// The value of the cookie `name`, if the request carries it.
    public static func cookie(_ name: String, in request: Request) -> String? {
        for header in request.headers[values: .cookie] {
            for pair in header.split(separator: ";") {
                let parts = pair.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
                if parts.count == 2, parts[0] == name { return String(parts[1]) }
            }
        }
        return nil
    }

    /// A form post from the page's own origin: a browser sends `Origin` (and `Sec-Fetch-Site`)
    /// with every POST; one from another site names that site.
    public static func sameOrigin(_ request: Request) -> Bool {
        if let site = request.headers[HTTPField.Name("Sec-Fetch-Site")!], !["same-origin", "none"].contains(site) { return false }
        guard let origin = request.headers[.origin] else { return true }
        guard let host = URLComponents(string: origin)?.host, let authority = request.head.authority else { return false }
        let port = URLComponents(string: origin)?.port.map { ":\($0)" } ?? ""
        return host + port == authority
    }

    /// The fields of an `application/x-www-form-urlencoded` body (at most 16 KiB).
    public static func form(_ request: Request) async throws -> [String: String] {
        let body = try await request.body.collect(upTo: 16 * 1024)
        var fields: [String: String] = [:]
        for pair in String(buffer: body).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map {
                String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            if let name = parts.first { fields[name] = parts.count > 1 ? parts[1] : "" }
        }
        return fields
    }
}
