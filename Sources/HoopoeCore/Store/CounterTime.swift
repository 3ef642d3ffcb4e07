import Foundation
import Synchronization

/// The counter keys' parts for a moment — the day (`2026-11-30`), the hour (`2026-11-30T13`) and the minute's field
/// prefix (`m07`), as ``QueueKeys/day(_:)`` and ``QueueKeys/hour(_:)`` write them — kept for the minute they belong to.
///
/// Why kept: every acknowledgement batch needs them, and those functions go through `String(format:)`, Foundation's
/// formatter, five times a batch: about a twentieth of the worker's CPU per job in the session 6 profile. Made once
/// a minute instead, they cost a lock and a compare.
struct CounterTime: Sendable, Equatable {
    let day: String
    let hour: String
    let minute: String

    private static let last = Mutex<(minute: Int, parts: CounterTime)?>(nil)

    /// The parts for `date` (the same as computing them afresh).
    static func at(_ date: Date) -> CounterTime {
        let minute = Int((date.timeIntervalSince1970 / 60).rounded(.down))
        if let cached = last.withLock({ $0 }), cached.minute == minute { return cached.parts }
        let hour = QueueKeys.hour(date)
        let parts = CounterTime(day: QueueKeys.day(date), hour: hour.hour, minute: hour.minute)
        last.withLock { $0 = (minute, parts) }
        return parts
    }
}
