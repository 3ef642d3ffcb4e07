import Foundation

/// When a gift's reminder SMS goes out and how many hours it says are left.
///
/// Normally `GIFT_REMINDER_BEFORE_HOURS` before the expiry. But `sms.send` defers a message due in quiet hours
/// (default 22:00–08:00 Tehran) to their end, which for a gift expiring at night is after the gift is gone. So a
/// reminder due in quiet hours goes out when they end if at least an hour is left then, and otherwise just before
/// they begin (15 minutes before); the hours in the text are the whole hours left at that moment.
struct GiftReminderTiming: Equatable {
    /// When to send it.
    let sendAt: Date
    /// Whole hours left at `sendAt` (the `token`).
    let hoursLeft: Int

    /// How long before quiet hours an evening reminder goes out.
    static let leadBeforeQuietHours: TimeInterval = 15 * 60

    /// - Returns: nil when reminders are off (`hoursBefore` 0).
    static func plan(expiresAt: Date, hoursBefore: Int, quietHours: QuietHours, calendar: LocalCalendar) -> GiftReminderTiming? {
        guard hoursBefore > 0 else { return nil }
        var sendAt = expiresAt.addingTimeInterval(-Double(hoursBefore) * 3600)
        if quietHours.contains(sendAt, in: calendar) {
            let afterQuiet = quietHours.nextAllowed(after: sendAt, in: calendar)
            if afterQuiet <= expiresAt.addingTimeInterval(-3600) {
                sendAt = afterQuiet
            } else {
                // The start on the wall clock (a day the clocks change has 23 or 25 hours): this day's, or the day
                // before's for a reminder due after midnight.
                var start = calendar.at(hour: quietHours.startHour, on: sendAt)
                if start > sendAt { start = calendar.at(hour: quietHours.startHour, on: calendar.adding(days: -1, to: sendAt)) }
                sendAt = start.addingTimeInterval(-leadBeforeQuietHours)
            }
        }
        let hours = Int((expiresAt.timeIntervalSince(sendAt) / 3600).rounded(.down))
        return GiftReminderTiming(sendAt: sendAt, hoursLeft: max(1, hours))
    }
}
