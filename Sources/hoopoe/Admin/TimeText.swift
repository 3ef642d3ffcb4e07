import Foundation

/// Times as admin commands show them: ISO 8601 in UTC, with a human "ago"/"in" beside it.
enum TimeText {
    /// `2026-11-23T07:50:08Z`.
    static func iso(_ unix: Double) -> String {
        ISO8601DateFormatter.string(from: Date(timeIntervalSince1970: unix), timeZone: .gmt, formatOptions: [.withInternetDateTime])
    }

    /// `2026-11-23T07:50:08Z (3m ago)` or `(in 5s)`.
    static func isoWithRelative(_ unix: Double, now: Double = Date().timeIntervalSince1970) -> String {
        let delta = unix - now
        return "\(iso(unix)) (\(delta >= 0 ? "in \(span(delta))" : "\(span(-delta)) ago"))"
    }

    /// `3m ago`: how long before now `unix` was.
    static func ago(_ unix: Double) -> String {
        span(max(0, Date().timeIntervalSince1970 - unix)) + " ago"
    }

    /// `850ms`, `42s`, `3m`, `5h`, `2d`: one unit, rounded down, short enough for a table cell.
    static func span(_ seconds: Double) -> String {
        switch seconds {
        case ..<1: "\(Int((seconds * 1000).rounded()))ms"
        case ..<120: "\(Int(seconds))s"
        case ..<7200: "\(Int(seconds / 60))m"
        case ..<172_800: "\(Int(seconds / 3600))h"
        default: "\(Int(seconds / 86_400))d"
        }
    }
}
