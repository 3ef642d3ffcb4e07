import Foundation

/// When a gift's reminder SMS goes out and how many hours it says are left.
///
/// Normally `GIFT_REMINDER_BEFORE_HOURS` before the expiry. But `sms.send` defers a message due in quiet hours
/// (default 22:00–08:00 Tehran) to their end, which for a gift expiring at night is after the gift is gone; and the
/// reminder's `not_after` (an hour after its time) ends it `outdated` if it is put off that far. So:
/// - due in quiet hours: it goes when they end if at least an hour is left then, and otherwise 15 minutes
///   (``QuietHours/margin``) before they begin;
/// - due in those 15 minutes (21:45–22:00): at 21:45 too. Left at 21:55, one failed attempt or a short backlog ran
///   it at 22:00, which put it off to 08:00, past its `not_after`: nothing was sent for a gift valid until 00:55;
/// - granted after that evening time but before its own time and before quiet hours begin: at once, rather than
///   not at all.
///
/// The hours in the text are the whole hours left at the moment it goes.
struct GiftReminderTiming: Equatable {
    /// When to send it.
    let sendAt: Date
    /// Whole hours left at `sendAt` (the `token`).
    let hoursLeft: Int

    /// - Parameter now: the grant's time: nothing is planned before it.
    /// - Returns: nil when reminders are off (`hoursBefore` 0) or the time it would go has passed.
    static func plan(expiresAt: Date, hoursBefore: Int, quietHours: QuietHours, calendar: LocalCalendar, now: Date) -> GiftReminderTiming? {
        guard hoursBefore > 0 else { return nil }
        let due = expiresAt.addingTimeInterval(-Double(hoursBefore) * 3600)
        var sendAt = due
        var atOnce = false
        if let end = quietHours.endIfCaught(at: due, in: calendar) {
            if quietHours.contains(due, in: calendar), end <= expiresAt.addingTimeInterval(-3600) {
                sendAt = end
            } else {
                // The start on the wall clock (a day the clocks change has 23 or 25 hours): this evening's, or the
                // evening before's for a reminder due after midnight.
                let start = quietHours.start(ofQuietHoursEndingAt: end, in: calendar)
                sendAt = start.addingTimeInterval(-QuietHours.margin)
                // Granted after that time, before its own and before quiet hours: now is the last moment it can go.
                if sendAt <= now, now < start, due > now {
                    sendAt = now
                    atOnce = true
                }
            }
        }
        guard atOnce || sendAt > now else { return nil }
        let hours = Int((expiresAt.timeIntervalSince(sendAt) / 3600).rounded(.down))
        return GiftReminderTiming(sendAt: sendAt, hoursLeft: max(1, hours))
    }
}
