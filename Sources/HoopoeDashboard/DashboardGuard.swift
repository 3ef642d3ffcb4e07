import HTTPTypes
import Hummingbird

/// Runs before every route: the `Host` check without a password (``HostCheck``), basic auth when a password is set,
/// `--read-only`'s refusal of every POST, and the
/// headers that keep a page from being framed, sniffed, cached or made to run scripts it did not load itself.
struct DashboardGuard<Context: RequestContext>: RouterMiddleware {
    let auth: BasicAuth?
    let readOnly: Bool

    /// `script-src 'self'` and `style-src 'self'`: no inline script or style runs, so markup that escaped the
    /// escaping could still not execute; the JS and CSS come from `/assets/`.
    static var securityHeaders: HTTPFields {
        [
            .contentSecurityPolicy:
                "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            .init("X-Frame-Options")!: "DENY",
            .init("X-Content-Type-Options")!: "nosniff",
            .init("Referrer-Policy")!: "no-referrer",
            .cacheControl: "no-store",
        ]
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        if auth == nil, !HostCheck.allowsWithoutPassword(request.head.authority) {
            response = Page.plain(
                .forbidden,
                "Refused: without HOOPOE_DASHBOARD_PASSWORD the dashboard answers only requests to an IP address or localhost (Host was not one).\n")
        } else if auth == nil, HostCheck.cameThroughAProxy(request.headers) {
            // A proxy rewrites Host to its upstream's address, which passes the check above whoever asked (DNS
            // rebinding aimed at the proxy included): behind one, only the password tells.
            response = Page.plain(
                .forbidden,
                "Refused: this request came through a proxy (Forwarded / X-Forwarded-* / X-Real-IP), and without HOOPOE_DASHBOARD_PASSWORD the dashboard cannot tell who sent it; set the password.\n")
        } else if let auth, !auth.accepts(authorization: request.headers[.authorization]) {
            response = Response(
                status: .unauthorized, headers: [.wwwAuthenticate: BasicAuth.challenge, .contentType: "text/plain; charset=utf-8"],
                body: .init(byteBuffer: .init(string: "The dashboard needs its password (HOOPOE_DASHBOARD_PASSWORD).\n")))
        } else if readOnly && request.method == .post {
            response = Page.plain(.forbidden, "This dashboard is read-only (--read-only): no action is allowed.\n")
        } else {
            response = try await next(request, context)
        }
        for field in Self.securityHeaders { response.headers[field.name] = field.value }
        return response
    }
}
