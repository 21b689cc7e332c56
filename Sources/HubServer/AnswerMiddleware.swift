import Foundation
import Hub
import Hummingbird
import Logging

/// What every answer of the hub carries, and what a failure shows.
///
/// - Every answer: `Cache-Control: no-store` (reports hold personal data: no browser or proxy keeps a
///   copy), `Referrer-Policy: no-referrer`, `X-Content-Type-Options: nosniff`; an HTML page also a
///   Content-Security-Policy that allows only this site's own stylesheet, script, requests and forms
///   (nothing from elsewhere, no inline script, no frame around it).
/// - A failure of the hub's own (a storage error, a bug: anything but a refusal of the request) is
///   logged with the request's path and a short reference, and answered `500` with that reference
///   only: no internal error, path or SQL reaches the caller.
struct AnswerMiddleware<Context: RequestContext>: RouterMiddleware {
    static var contentSecurityPolicy: String {
        "default-src 'none'; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; "
            + "img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    }

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as HubError where error.code.isCallerError {
            response = HubServer.problem(error)
        } catch let error as any HTTPResponseError {
            // Hummingbird's own refusals (no such route, a method not allowed): they name nothing internal.
            response = try error.response(from: request, context: context)
        } catch {
            let reference = String(UUID().uuidString.prefix(8)).lowercased()
            context.logger.error(
                "request failed",
                metadata: [
                    "reference": "\(reference)", "method": "\(request.method)", "path": "\(request.uri.path)",
                    "error": "\(error)",
                ])
            response = HubServer.problem(
                HubError(.internal, "the hub could not answer; its log has the reason under reference \(reference)"))
        }
        response.headers[.cacheControl] = "no-store"
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.init("Referrer-Policy")!] = "no-referrer"
        if response.headers[.contentType]?.hasPrefix("text/html") == true {
            response.headers[.contentSecurityPolicy] = Self.contentSecurityPolicy
        }
        return response
    }
}
