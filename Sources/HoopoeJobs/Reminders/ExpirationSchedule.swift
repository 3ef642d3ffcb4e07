import Foundation

/// When each expiration reminder is due: at the start of the local day `offset` days before the expiry's local day
/// (so the daily 09:00 sweep of that day releases it).
struct ExpirationSchedule: Sendable {
    let calendar: LocalCalendar
    /// Offsets in days, largest first.
    let offsets: [Int]

    /// How long subscription records and released-job records outlive the expiry: 40 days.
    static let retention = 40 * 86_400

    /// The start of the local day the reminder for `offset` belongs to.
    func due(expiry: Date, offset: Int) -> Date {
        calendar.startOfDay(calendar.adding(days: -offset, to: calendar.startOfDay(expiry)))
    }

    /// The offsets to schedule now (their day is today or later) and those skipped (their day is past).
    func plan(expiry: Date, now: Date) -> (scheduled: [(offset: Int, due: Date)], skipped: [Int]) {
        let today = calendar.startOfDay(now)
        var scheduled: [(offset: Int, due: Date)] = []
        var skipped: [Int] = []
        for offset in offsets {
            let day = due(expiry: expiry, offset: offset)
            if day < today { skipped.append(offset) } else { scheduled.append((offset, day)) }
        }
        return (scheduled, skipped)
    }
}
