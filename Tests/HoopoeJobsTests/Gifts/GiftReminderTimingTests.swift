import Foundation
import Testing

@testable import HoopoeJobs

/// The reminder must reach the user before the gift is gone, though sms.send holds messages in quiet hours.
@Suite("Gifts: when the reminder goes out")
struct GiftReminderTimingTests {
    let calendar = LocalCalendar.tehran
    /// 3 Dec 2024 00:00 Tehran.
    let midnight = Date(timeIntervalSince1970: 1_733_171_400)

    /// Planned a day before `midnight`.
    private func plan(expiresAtHour hour: Double, before: Int = 3, quiet: QuietHours = .default) -> GiftReminderTiming? {
        GiftReminderTiming.plan(
            expiresAt: midnight.addingTimeInterval(hour * 3600), hoursBefore: before, quietHours: quiet, calendar: calendar,
            now: midnight.addingTimeInterval(-86_400))
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

    /// `hour`:`minute` Tehran, `day` days after the 3rd.
    private func time(_ hour: Int, _ minute: Int = 0, day: Int = 0) -> Date {
        midnight.addingTimeInterval(Double(day * 86_400 + hour * 3600 + minute * 60))
    }

    private func plan(expiresAt: Date, quiet: QuietHours = .default, grantedAt: Date) -> GiftReminderTiming? {
        GiftReminderTiming.plan(expiresAt: expiresAt, hoursBefore: 3, quietHours: quiet, calendar: calendar, now: grantedAt)
    }

    /// Due at 21:55, it ran at 22:00 after one failed attempt or a short backlog, was put off to 08:00 and ended
    /// `outdated` there (its `not_after`, 22:55): no reminder for a gift valid until 00:55.
    @Test("due in the 15 minutes before quiet hours: at 21:45, as one due inside them, saying the hours left then")
    func justBeforeQuietHours() {
        let morning = time(9)
        #expect(plan(expiresAt: time(0, 55, day: 1), grantedAt: morning) == GiftReminderTiming(sendAt: time(21, 45), hoursLeft: 3))
        // Due 21:44:59, a second outside the margin: left as it is.
        #expect(plan(expiresAt: time(0, 45, day: 1).addingTimeInterval(-1), grantedAt: morning)?.sendAt == time(21, 45).addingTimeInterval(-1))
        // Quiet hours from midnight (`00-08`): due 23:55, so at 23:45 the same evening.
        #expect(plan(expiresAt: time(2, 55, day: 1), quiet: QuietHours(startHour: 0, endHour: 8), grantedAt: morning)
            == GiftReminderTiming(sendAt: time(23, 45), hoursLeft: 3))
    }

    @Test("granted after the evening time but before quiet hours: at once, saying the hours left; granted in them or after its time: none")
    func grantedInTheEvening() {
        // Expires 02:00 (its evening time 21:45), granted at 21:50: at once, 4 hours left. It was not planned at all
        // (21:45 had passed), though nothing kept it from going out at 21:50.
        #expect(plan(expiresAt: time(2, day: 1), grantedAt: time(21, 50)) == GiftReminderTiming(sendAt: time(21, 50), hoursLeft: 4))
        // Granted at 22:30, in quiet hours: none (08:00 leaves less than an hour).
        #expect(plan(expiresAt: time(2, day: 1), grantedAt: time(22, 30)) == nil)
        // Due 21:55 (expires 00:55), granted at 21:50: at once; at 21:58, after its own time: none, as for any gift
        // granted after its reminder time.
        #expect(plan(expiresAt: time(0, 55, day: 1), grantedAt: time(21, 50))?.sendAt == time(21, 50))
        #expect(plan(expiresAt: time(0, 55, day: 1), grantedAt: time(21, 58)) == nil)
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
            expiresAt: instant("2025-03-31T02:00:00+02:00"), hoursBefore: 3, quietHours: .default, calendar: berlin,
            now: instant("2025-03-30T12:00:00+02:00"))
        #expect(timing == GiftReminderTiming(sendAt: instant("2025-03-30T21:45:00+02:00"), hoursLeft: 4))
    }
}
