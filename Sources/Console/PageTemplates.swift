import Foundation
import HTTPTypes
import Hummingbird
import Mustache

/// Server-rendered HTML (the console's, the owner's cabinet's): one Mustache template per page,
/// rendered into the one named "layout" (escaped by Mustache; only the rendered page goes in
/// unescaped). Templates are compiled once.
public struct PageTemplates: Sendable {
    private let templates: [String: MustacheTemplate]

    /// The console's pages.
    static func console() throws -> PageTemplates {
        try PageTemplates([("layout", PackageResources.layout_mustache), ("signin", PackageResources.signin_mustache),
                              ("overview", PackageResources.overview_mustache), ("dead", PackageResources.dead_mustache),
                              ("job", PackageResources.job_mustache), ("jobs", PackageResources.jobs_mustache), ("workers", PackageResources.workers_mustache),
                              ("callbacks", PackageResources.callbacks_mustache), ("callback", PackageResources.callback_mustache),
                              ("releases", PackageResources.releases_mustache), ("sites", PackageResources.sites_mustache),
                              ("sitekey", PackageResources.sitekey_mustache),
                              ("watchdog", PackageResources.watchdog_mustache)])
    }

    /// Templates by name, "layout" among them.
    public init(_ sources: [(name: String, bytes: [UInt8])]) throws {
        var templates: [String: MustacheTemplate] = [:]
        for (name, bytes) in sources {
            templates[name] = try MustacheTemplate(string: String(decoding: bytes, as: UTF8.self))
        }
        self.templates = templates
    }

    /// A whole page: `page`'s template with `values`, in the layout. `csrf` (a signed-in
    /// session's) shows the navigation and goes into every form.
    public func render(_ page: String, title: String, csrf: String?, values: [String: Any] = [:], notice: String? = nil,
                problem: String? = nil, status: HTTPResponse.Status = .ok, refresh: Int? = nil) -> Response {
        var values = values
        values["csrf"] = csrf
        let body = templates[page]?.render(values) ?? ""
        var layout: [String: Any] = ["title": title, "body": body]
        layout["csrf"] = csrf
        layout["notice"] = notice
        layout["problem"] = problem
        layout["refresh"] = refresh
        let html = templates["layout"]?.render(layout) ?? body
        return Response(status: status, headers: ServerForms.pageHeaders, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

}
