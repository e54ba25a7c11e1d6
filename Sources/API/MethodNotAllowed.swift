import HTTPTypes
import Hummingbird

/// A path the API serves asked with a method it does not serve is 405 with `Allow` naming the
/// ones it does (RFC 9110 §15.5.6), not 404: the client has the right resource and the wrong verb.
struct MethodNotAllowedMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Each route's path and the methods it answers.
    let routes: [(path: RouterPath, methods: [HTTPRequest.Method])]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            let segments = request.uri.path.split(separator: "/", omittingEmptySubsequences: true)
            let allowed = routes.filter { route in
                route.path.count == segments.count && zip(route.path, segments).allSatisfy { element, segment in element ~= segment }
            }.flatMap(\.methods)
            guard !allowed.isEmpty, !allowed.contains(request.method) else { throw error }
            let names = Set(allowed.map(\.rawValue)).sorted().joined(separator: ", ")
            var refusal = APIError(.methodNotAllowed, "method_not_allowed", "\(request.method) is not served here; use \(names)")
            refusal.headers[.allow] = names
            throw refusal
        }
    }
}
