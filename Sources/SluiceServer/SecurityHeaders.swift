import HTTPTypes
import Hummingbird

/// Headers that keep the web UI's pages what they are: only this server's stylesheet and
/// live-log script, no inline script, no frames, no content-type guessing, no referrer
/// leaking run URLs. Added to every response, errors included.
struct SecurityHeaders<Context: RequestContext>: RouterMiddleware {
    static var fields: [(HTTPField.Name, String)] {
        [
            // Server-rendered HTML with inline SVG, /ui/style.css, /ui/live.js and its event stream.
            (.contentSecurityPolicy, "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self' data:; "
                + "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"),
            (HTTPField.Name("X-Content-Type-Options")!, "nosniff"),
            (HTTPField.Name("X-Frame-Options")!, "DENY"),
            (HTTPField.Name("Referrer-Policy")!, "no-referrer"),
        ]
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            var response = try await next(request, context)
            for (name, value) in Self.fields { response.headers[name] = value }
            return response
        } catch let error as any HTTPResponseError {
            var response = try error.response(from: request, context: context)
            for (name, value) in Self.fields { response.headers[name] = value }
            return response
        }
    }
}
