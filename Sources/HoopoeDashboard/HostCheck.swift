import HTTPTypes

/// Without a password, the dashboard answers only requests addressed to an IP address or `localhost`.
///
/// Why: a dashboard on loopback with no password is still reachable from a web page the operator opens, by DNS
/// rebinding — the attacker's host name is made to resolve to 127.0.0.1, so the attacker's page is "same origin"
/// with the dashboard and could read a page (with its CSRF token) and post a form. Such a request carries the
/// attacker's host name in `Host`; refusing every name but `localhost` stops it. With a password set the browser
/// has no credentials for the attacker's name, so any `Host` is accepted (a TLS proxy's host name included).
enum HostCheck {
    /// Headers a reverse proxy adds: a request carrying one came through a proxy, whose `Host` (often rewritten to the
    /// upstream's `127.0.0.1:9460`) says nothing about who asked. Without a password such a request is refused.
    static let proxyHeaders: [HTTPField.Name] = [
        .init("Forwarded")!, .init("X-Forwarded-For")!, .init("X-Forwarded-Host")!, .init("X-Real-IP")!,
    ]

    /// True when `headers` hold one of ``proxyHeaders``.
    static func cameThroughAProxy(_ headers: HTTPFields) -> Bool {
        proxyHeaders.contains { headers[$0] != nil }
    }

    /// True when `authority` (the `Host` header: a name or address, with an optional port) is `localhost` or an IP
    /// literal; a request without one (not from a browser) is accepted.
    static func allowsWithoutPassword(_ authority: String?) -> Bool {
        guard let authority, !authority.isEmpty else { return true }
        let host: Substring
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return false }
            let inside = authority[authority.index(after: authority.startIndex)..<close]
            return !inside.isEmpty && inside.allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." }
        }
        host = authority.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)[0]
        if host.lowercased() == "localhost" { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { part in !part.isEmpty && part.count <= 3 && part.allSatisfy(\.isASCII) && part.allSatisfy(\.isNumber) }
    }
}
