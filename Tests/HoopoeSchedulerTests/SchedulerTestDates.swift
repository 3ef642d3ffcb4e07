import Foundation

/// Instants for the scheduler's tests, written as ISO 8601 with an offset.
enum SchedulerTestTime {
    /// Parses "2025-06-01T10:00:00Z" or "2025-06-01T10:00:00.5+03:30" (fractional seconds optional).
    static func date(_ text: String) -> Date? {
        if let date = ISO8601DateFormatter().date(from: text) { return date }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return fractional.date(from: text)
    }

    /// Writes an instant in a zone with its offset ("+00:00" rather than "Z").
    static func format(_ date: Date, in timeZone: TimeZone) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = timeZone
        return formatter.string(from: date).replacingOccurrences(of: "Z", with: "+00:00")
    }
}
