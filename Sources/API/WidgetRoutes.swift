import CryptoPrimitives
import Domain
import Foundation
import HTTPTypes
import Hummingbird

/// The widget: its script (`/widget.js`, the same for every site, cached and revalidated by its
/// hash), a site's settings for it (`/v1/widget/config`: language, colour, corner, button text,
/// opening delay, working hours and zone; cached a minute, versioned by their hash), and the
/// demo page that embeds it.
struct WidgetRoutes: Sendable {
    let sites: SiteKeyCache

    static let script = PackageResources.widget_js
    static let scriptVersion = String(SHA256.hash(script).hexString.prefix(16))

    func add(to router: Router<APIContext>) {
        router.get("/widget.js") { request, _ in
            try Self.cached(request, version: Self.scriptVersion, contentType: "application/javascript; charset=utf-8", body: Self.script)
        }
        router.get("/v1/widget/config") { request, _ in try await config(request) }
        router.get("/demo") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(bytes: PackageResources.demo_html)))
        }
    }

    func config(_ request: Request) async throws -> Response {
        let site = try await CallbackRoutes.site(request, sites)
        try CallbackRoutes.checkOrigin(request, site)
        func make(_ version: String) -> WidgetConfig { WidgetConfig(site, version: version) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // The version is the settings' own hash: a change shows at the next revalidation.
        let version = String(SHA256.hash(Array(try encoder.encode(make("")))).hexString.prefix(16))
        return try Self.cached(request, version: version, contentType: "application/json; charset=utf-8",
                               body: Array(try encoder.encode(make(version))), maxAge: 60)
    }

    /// An answer browsers keep `maxAge` seconds and then revalidate: 304 while `version` holds.
    static func cached(_ request: Request, version: String, contentType: String, body: [UInt8], maxAge: Int = 300) throws -> Response {
        let tag = "\"\(version)\""
        var headers: HTTPFields = [.cacheControl: "public, max-age=\(maxAge)", .eTag: tag]
        if request.headers[.ifNoneMatch]?.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == tag }) == true {
            return Response(status: .notModified, headers: headers)
        }
        headers[.contentType] = contentType
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}
