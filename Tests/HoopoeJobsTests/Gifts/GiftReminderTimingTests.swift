import Foundation
import Testing

@testable import HoopoeJobs

/// The reminder must reach the user before the gift is gone, though sms.send holds messages in quiet hours.
@Suite("Gifts: when the reminder goes out")
struct GiftReminderTimingTests {
    let calendar = LocalCalendar.tehran
    /// 3 Dec 2024 00:00 Tehran.
    let midnight = Date(timeIntervalSince1970: 1_733_171_400)

    private func plan(expiresAtHour hour: Double, before: Int = 3, quiet: QuietHours = .default) -> GiftReminderTiming? {
        GiftReminderTiming.plan(expiresAt: midnight.addingTimeInterval(hour * 3600), hoursBefore: before, quietHours: quiet, calendar: calendar)
    }

    @Test("in the day: 3 h before, saying 3")
    func daytime() {
        #expect(plan(expiresAtHour: 15) == GiftReminderTiming(sendAt: midnight.addingTimeInterval(12 * 3600), hoursLeft: 3))
    }

    @Test("due at night with the gift expiring before morning: before quiet hours (21:45), saying the hours left then")
    func beforeQuietHours() {
        // Expires 02:00; 23:00 is quiet and 08:00 is too late.
        #expect(plan(expiresAtHour: 2) == GiftReminderTiming(sendAt: midnight.addingTimeInterval(-2.25 * 3600), hoursLeft: 4))
    }

    @Test("due at night with the gift lasting past morning: at 08:00, saying the hours left then")
    func atQuietHoursEnd() {
        // Expires 10:00; 07:00 is quiet; 08:00 leaves 2 h.
        #expect(plan(expiresAtHour: 10) == GiftReminderTiming(sendAt: midnight.addingTimeInterval(8 * 3600), hoursLeft: 2))
        // Expires 08:30: 05:30 is quiet and 08:00 leaves half an hour, so the evening before.
        #expect(plan(expiresAtHour: 8.5)?.sendAt == midnight.addingTimeInterval(-2.25 * 3600))
    }

    @Test("no quiet hours, or reminders off")
    func edges() {
        #expect(plan(expiresAtHour: 2, quiet: QuietHours(startHour: 0, endHour: 0))?.sendAt == midnight.addingTimeInterval(-3600))
        #expect(plan(expiresAtHour: 15, before: 0) == nil)
    }

    /// Quiet hours begin at 22:00 on the wall clock on a 23-hour day too: midnight + 22 h was 23:00 there, and the
    /// evening reminder went out at 22:45, inside quiet hours, saying an hour less.
    @Test("due at night on the day clocks go forward (Berlin): still 15 minutes before 22:00 local")
    func clockChangeDay() {
        let berlin = LocalCalendar(timeZone: TimeZone(identifier: "Europe/Berlin")!)
        let instant = { (text: String) in ISO8601DateFormatter().date(from: text)! }
        // Expires 02:00 on the 31st; 23:00 on the 30th is quiet and 08:00 too late.
        let timing = GiftReminderTiming.plan(
            expiresAt: instant("2025-03-31T02:00:00+02:00"), hoursBefore: 3, quietHours: .default, calendar: berlin)
        #expect(timing == GiftReminderTiming(sendAt: instant("2025-03-30T21:45:00+02:00"), hoursLeft: 4))
    }
}
