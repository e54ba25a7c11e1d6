import Foundation
import HTTPTypes
import Hummingbird
import Logging
import PostgresClient

/// An error answer: `{"error": {"code", "message", "field"?}}` with a fitting status. Thrown
/// by handlers; the error middleware turns it (and anything unexpected) into JSON.
struct APIError: Error, HTTPResponseError {
    let status: HTTPResponse.Status
    let code: String
    let message: String
    var field: String?
    var headers: HTTPFields = [:]

    init(_ status: HTTPResponse.Status, _ code: String, _ message: String, field: String? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field
    }

    struct Body: Encodable {
        struct Detail: Encodable {
            let code: String
            let message: String
            let field: String?
        }

        let error: Detail
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = self.headers
        headers[.contentType] = "application/json; charset=utf-8"
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let body = try encoder.encode(Body(error: .init(code: code, message: message, field: field)))
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    static func invalid(_ field: String, _ message: String, code: String = "invalid_request") -> APIError {
        APIError(.badRequest, code, message, field: field)
    }
}

/// Turns every error into the JSON error shape: the API never answers a bare 500 page, and an
/// unexpected error is logged with the request, answered 500 without internals.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return try error.response(from: request, context: context)
        } catch let error as HTTPError {
            let code = switch error.status {
            case .notFound: "not_found"
            case .methodNotAllowed: "method_not_allowed"
            case .contentTooLarge: "body_too_large"
            case .badRequest: "bad_request"
            default: "http_\(error.status.code)"
            }
            return try APIError(error.status, code, error.body ?? error.status.reasonPhrase).response(from: request, context: context)
        } catch let error as PostgresError where [.connectionFailed, .connectionLost, .poolExhausted].contains(error.code) {
            // Unreachable, partitioned or saturated: say so and when to come back, not 500.
            context.logger.warning("PostgreSQL unavailable in \(request.method) \(request.uri.path): \(error)")
            var answer = APIError(.serviceUnavailable, "database_unavailable", "the records database cannot be reached right now; retry shortly")
            answer.headers[HTTPField.Name("Retry-After")!] = "5"
            return try answer.response(from: request, context: context)
        } catch {
            context.logger.error("unhandled error in \(request.method) \(request.uri.path): \(error)")
            return try APIError(.internalServerError, "internal", "the server could not answer this request; it was logged")
                .response(from: request, context: context)
        }
    }
}
