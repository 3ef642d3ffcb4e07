import Foundation
import HTTPTypes
import Hummingbird

/// The frame every page shares — title, navigation, a notice after an action — and the responses built from it.
struct Page {
    /// The pages in the navigation bar: path and label.
    static let navigation: [(path: String, label: String)] = [
        ("/", "Overview"), ("/queues", "Queues"), ("/busy", "Busy"), ("/scheduled", "Scheduled & retries"), ("/dead", "Dead"),
        ("/periodic", "Periodic"), ("/search", "Search"), ("/providers", "Providers"),
    ]

    let title: String
    let path: String
    var notice: String?
    var readOnly: Bool
    let body: HTML
    /// Reload the page every this many seconds (a `<meta http-equiv="refresh">`: no script needed), nil for never.
    var refreshSeconds: Int?

    /// The whole document.
    var html: HTML {
        let links = Self.navigation.map { item -> HTML in
            item.path == path ? "<a class=\"current\" href=\"\(item.path)\">\(item.label)</a>" : "<a href=\"\(item.path)\">\(item.label)</a>"
        }
        let banner: HTML = notice.map { "<p class=\"notice\" role=\"status\">\($0)</p>" } ?? .empty
        let refresh: HTML = refreshSeconds.map { "<meta http-equiv=\"refresh\" content=\"\($0)\">" } ?? .empty
        let mode: HTML = readOnly ? "<span class=\"badge\">read-only</span>" : .empty
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">\(refresh)
            <title>\(title) · hoopoe</title><link rel="stylesheet" href="/assets/app.css"><link rel="icon" href="/assets/icon.svg" type="image/svg+xml">
            <script src="/assets/app.js" defer></script></head>
            <body><header><span class="brand">hoopoe</span><nav>\(links)</nav>\(mode)
            <form class="search" method="get" action="/job"><input name="id" placeholder="job id" aria-label="job id" required><button>Find</button></form></header>
            <main><h1>\(title)</h1>\(banner)\(body)</main></body></html>
            """
    }

    /// A 200 HTML response of this page.
    var response: Response { Self.html(html, status: .ok) }

    static func html(_ html: HTML, status: HTTPResponse.Status) -> Response {
        Response(status: status, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: .init(string: html.markup)))
    }

    static func plain(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: .init(string: text)))
    }

    /// 303 to `location` (a path of this dashboard) after an action that has its own page to show.
    static func see(_ location: String) -> Response { Response(status: .seeOther, headers: [.location: location]) }

    /// 303 to `location` (a path of this dashboard) after an action, with `notice` shown there.
    static func after(_ location: String, notice: String) -> Response {
        let separator = location.contains("?") ? "&" : "?"
        return Response(status: .seeOther, headers: [.location: location + separator + "notice=" + QueryString.encode(notice)])
    }
}

/// How times and durations read on every page.
enum Clock {
    /// `2026-11-30 08:15:02 UTC`.
    static func utc(_ seconds: Double) -> String {
        guard seconds > 0, seconds.isFinite else { return "-" }
        // A time no one can mean (an envelope's own field: any writer's number) is shown as the number.
        guard seconds < 253_402_300_800 else { return "after the year 9999 (\(seconds))" }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss 'UTC'"
        return formatter.string(from: Date(timeIntervalSince1970: seconds))
    }

    /// `2026-11-24 09:00:00 +03:30 (in 5h)`: the wall-clock time in `zone` (the zone a cron's fields mean), with its
    /// offset, and how far off it is.
    static func inZone(_ seconds: Double, _ zone: TimeZone, now: Double = Date().timeIntervalSince1970) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.calendar = Calendar(identifier: .gregorian)
        formatter.timeZone = zone
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss xxx"
        let delta = seconds - now
        return formatter.string(from: Date(timeIntervalSince1970: seconds)) + (delta >= 0 ? " (in \(span(delta)))" : " (\(span(delta)) ago)")
    }

    /// `1h 5m`, `42s`, `3d 2h`: the two largest units.
    static func span(_ seconds: Double) -> String {
        // Capped before the conversion: a job's `failed_attempts[].at` of 1e19, written by anyone who can XADD, trapped
        // `Int(_:)` and took the dashboard down with one page view (a review found it).
        guard seconds.isFinite else { return "?" }
        let total = Int(min(abs(seconds), 1e15).rounded())
        let units = [(86_400, "d"), (3600, "h"), (60, "m"), (1, "s")]
        var parts: [String] = []
        var rest = total
        for (size, name) in units where rest >= size || (parts.isEmpty && size == 1) {
            parts.append("\(rest / size)\(name)")
            rest %= size
            if parts.count == 2 { break }
        }
        return parts.joined(separator: " ")
    }

    /// `2026-… UTC (5m ago)` or `(in 5m)`.
    static func relative(_ seconds: Double, now: Double = Date().timeIntervalSince1970) -> String {
        guard seconds > 0 else { return "-" }
        let delta = seconds - now
        return utc(seconds) + (delta >= 0 ? " (in \(span(delta)))" : " (\(span(delta)) ago)")
    }
}
