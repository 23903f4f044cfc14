import HTTPTypes
import Hummingbird

/// Headers on every answer, errors included: pages load only what this server sends (the console's
/// inline styles, its SVG charts and the segment editor's inline script are its own), no page is
/// framed by another site, no answer is sniffed into another type, and links carry no path to
/// other sites. Added first, so it also covers what the admission gate refuses.
struct SecurityHeadersMiddleware: RouterMiddleware {
    static var fields: HTTPFields {
        [
            .contentSecurityPolicy: "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
            .xContentTypeOptions: "nosniff",
            .referrerPolicy: "same-origin",
            .xFrameOptions: "DENY",
        ]
    }

    func handle(_ request: Request, context: FlywheelRequestContext,
                next: (Request, FlywheelRequestContext) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            // Answered here rather than by the server, so the error carries the headers too.
            response = try error.response(from: request, context: context)
        }
        for field in Self.fields { response.headers[field.name] = field.value }
        return response
    }
}
