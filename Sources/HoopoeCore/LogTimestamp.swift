#if canImport(Glibc)
import Glibc
#endif

/// The time at the start of every log line, `2026-11-30T10:24:31.593Z` (UTC, milliseconds), formatted by hand.
///
/// Why not `ISO8601DateFormatter`: on Linux it builds an ICU calendar for its first string, which maps about
/// 7 MiB of ICU data into every process at its first log line — a third of an idle worker's memory, for a
/// timestamp (issue 17's idle-RSS target). `gmtime_r` needs no zone data for UTC.
public enum LogTimestamp {
    /// Now.
    public static func now() -> String {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return format(seconds: Int(spec.tv_sec), milliseconds: Int(spec.tv_nsec) / 1_000_000)
    }

    /// `seconds` since 1970 (UTC) and a millisecond part (0–999), as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    public static func format(seconds: Int, milliseconds: Int) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        var text = ""
        text.reserveCapacity(24)
        func append(_ value: Int32, width: Int) {
            let digits = String(value)
            if digits.count < width { text += String(repeating: "0", count: width - digits.count) }
            text += digits
        }
        append(parts.tm_year + 1900, width: 4)
        text += "-"
        append(parts.tm_mon + 1, width: 2)
        text += "-"
        append(parts.tm_mday, width: 2)
        text += "T"
        append(parts.tm_hour, width: 2)
        text += ":"
        append(parts.tm_min, width: 2)
        text += ":"
        append(parts.tm_sec, width: 2)
        text += "."
        append(Int32(max(0, min(999, milliseconds))), width: 3)
        text += "Z"
        return text
    }
}
