import Foundation

/// Times as admin commands show them: ISO 8601 in UTC, with a human "ago"/"in" beside it.
enum TimeText {
    /// `2026-11-23T07:50:08Z`; `?` for a time no calendar shows (NaN, infinite, or beyond year 9999: a score in
    /// Redis can be anything a careless writer put there).
    static func iso(_ unix: Double) -> String {
        guard unix.isFinite, abs(unix) < 253_402_300_800 else { return "?" }
        return ISO8601DateFormatter.string(from: Date(timeIntervalSince1970: unix), timeZone: .gmt, formatOptions: [.withInternetDateTime])
    }

    /// `2026-11-23T07:50:08Z (3m ago)` or `(in 5s)`.
    static func isoWithRelative(_ unix: Double, now: Double = Date().timeIntervalSince1970) -> String {
        guard unix.isFinite else { return "? (\(unix))" }
        let delta = unix - now
        return "\(iso(unix)) (\(delta >= 0 ? "in \(span(delta))" : "\(span(-delta)) ago"))"
    }

    /// `3m ago`: how long before now `unix` was.
    static func ago(_ unix: Double) -> String {
        span(max(0, Date().timeIntervalSince1970 - unix)) + " ago"
    }

    /// `850ms`, `42s`, `3m`, `5h`, `2d`: one unit, rounded down, short enough for a table cell.
    /// A NaN is `?`; a span too long for `Int` days is clamped, never a trap.
    static func span(_ seconds: Double) -> String {
        guard !seconds.isNaN else { return "?" }
        let seconds = min(max(seconds, -Self.longest), Self.longest)
        return switch seconds {
        case ..<1: "\(Int((seconds * 1000).rounded()))ms"
        case ..<120: "\(Int(seconds))s"
        case ..<7200: "\(Int(seconds / 60))m"
        case ..<172_800: "\(Int(seconds / 3600))h"
        default: "\(Int(seconds / 86_400))d"
        }
    }

    /// The longest span shown as it is (about 30 million years; its milliseconds still fit an `Int`); beyond,
    /// shown as this.
    private static let longest: Double = 1e15
}
