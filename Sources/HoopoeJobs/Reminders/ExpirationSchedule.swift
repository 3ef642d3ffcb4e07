import Foundation

/// When each expiration reminder is due: at the start of the local day `offset` days before the expiry's local day
/// (so the daily 09:00 sweep of that day releases it).
///
/// An offset's **window** runs from the start of its day to the start of the next smaller offset's day (the last
/// offset's window ends at the expiry). A subscription that arrives inside a window whose day has begun — after that
/// day's sweep, or days into it — would otherwise never hear about that offset: the plan names it as ``Plan/missed``
/// and the upsert releases it at once (in allowed hours), with the true days left. Only the nearest such offset is
/// sent; older ones are skipped.
struct ExpirationSchedule: Sendable {
    let calendar: LocalCalendar
    /// Offsets in days, largest first.
    let offsets: [Int]

    /// How long subscription records and released-job records outlive the expiry: 40 days.
    static let retention = 40 * 86_400

    /// What an upsert does with each offset.
    struct Plan: Sendable {
        /// Offsets whose day is still ahead, with the start of that day.
        var scheduled: [(offset: Int, due: Date)] = []
        /// The nearest offset whose day has begun (today or earlier) while the expiry is still ahead: released now.
        var missed: (offset: Int, due: Date)?
        /// Offsets whose window is over (a nearer one has begun), or every offset once the expiry has passed.
        var skipped: [Int] = []
    }

    /// The start of the local day the reminder for `offset` belongs to.
    func due(expiry: Date, offset: Int) -> Date {
        calendar.startOfDay(calendar.adding(days: -offset, to: calendar.startOfDay(expiry)))
    }

    /// Sorts the offsets into scheduled, missed (at most one) and skipped, for a subscription seen at `now`.
    func plan(expiry: Date, now: Date) -> Plan {
        var plan = Plan()
        guard expiry > now else {
            plan.skipped = offsets
            return plan
        }
        let today = calendar.startOfDay(now)
        var begun: [(offset: Int, due: Date)] = []
        for offset in offsets {
            let day = due(expiry: expiry, offset: offset)
            if day > today { plan.scheduled.append((offset, day)) } else { begun.append((offset, day)) }
        }
        // `offsets` is largest first, so the last offset whose day has begun is the nearest to the expiry.
        plan.missed = begun.last
        plan.skipped = begun.dropLast().map(\.offset)
        return plan
    }
}
