import Foundation

/// The path prefix the dashboard is served under behind a reverse proxy (`--base-path /hoopoe`,
/// `HOOPOE_DASHBOARD_BASE_PATH`): its routes answer under the prefix, and every link, form action, asset URL and
/// redirect it sends carries it. The proxy forwards the path as it came (nginx: `location /hoopoe/ { proxy_pass
/// http://127.0.0.1:9460; }`, no URI after the port), so the dashboard sees `/hoopoe/dead`.
///
/// Why the pages are rewritten once, here, rather than each link built with the prefix: every page writes its links
/// as root paths (`href="/dead"`), and ``HTML`` escapes `"` in every text from Redis, so `href="/`, `action="/` and
/// `src="/` can only be markup the dashboard's source wrote. One rewrite of the finished page covers every page,
/// including pages added later, where a prefix threaded through each link would be forgotten in one.
public struct BasePath: Sendable, Equatable, CustomStringConvertible {
    /// `""` (the root) or `/a/b`: a leading slash, no trailing one.
    public let value: String

    /// The root: no prefix.
    public static let root = BasePath(normalized: "")

    private init(normalized: String) { value = normalized }

    /// `text` as a prefix (`hoopoe`, `/hoopoe`, `/hoopoe/` and `/ops/hoopoe` are fine; `""` and `/` are the root);
    /// nil when it is not a plain path: only letters, digits, `-`, `.`, `_`, `~` in its segments, no empty, `.` or
    /// `..` segment.
    public init?(_ text: String) {
        let segments = text.split(separator: "/", omittingEmptySubsequences: false).dropFirst(text.hasPrefix("/") ? 1 : 0)
        let trimmed = segments.last == "" ? Array(segments.dropLast()) : Array(segments)
        for segment in trimmed {
            guard !segment.isEmpty, segment != ".", segment != "..",
                segment.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "-._~".unicodeScalars.contains($0)) })
            else { return nil }
        }
        value = trimmed.isEmpty ? "" : "/" + trimmed.joined(separator: "/")
    }

    public var description: String { value.isEmpty ? "/" : value }

    /// `path` (a root path of the dashboard, `/dead?queue=x`) under the prefix.
    func link(_ path: String) -> String { path.hasPrefix("/") ? value + path : path }

    /// `html` with every root-path `href`, `action` and `src` under the prefix.
    func prefixing(_ html: HTML) -> HTML {
        guard !value.isEmpty else { return html }
        var markup = html.markup
        for attribute in ["href", "action", "src"] {
            markup = markup.replacingOccurrences(of: " \(attribute)=\"/", with: " \(attribute)=\"\(value)/")
        }
        return HTML(stringLiteral: markup)
    }
}
