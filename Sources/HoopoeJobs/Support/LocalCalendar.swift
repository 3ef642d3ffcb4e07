import Foundation
import Synchronization

/// Calendar and wall-clock questions in the users' zone: Asia/Tehran by default (Iran has kept +03:30 all year
/// since 2022), the Persian (Solar Hijri) calendar for dates people read.
public struct LocalCalendar: Sendable {
    /// The zone reminders, quiet hours and months are counted in.
    public var timeZone: TimeZone { zone.zone }
    private let zone: DeferredTimeZone
    private let calendars: Calendars

    /// Gregorian calendar in ``timeZone``, for day arithmetic.
    public var gregorian: Calendar { calendars.get().gregorian }
    /// Persian calendar in ``timeZone``, for displayed dates and calendar months (``MonthCalendar``).
    public var persian: Calendar { calendars.get().persian }

    /// Asia/Tehran (a fixed +03:30 when the system has no zone data).
    public static let tehranZone = TimeZone(identifier: "Asia/Tehran") ?? TimeZone(secondsFromGMT: 12_600)!

    /// Calendars in ``tehranZone``.
    public static let tehran = LocalCalendar(timeZone: tehranZone)

    /// - Parameter timeZone: the zone.
    public init(timeZone: TimeZone) { self.init(zone: DeferredTimeZone(timeZone)) }

    /// - Parameter zone: the zone, named now and resolved on first use (``DeferredTimeZone``).
    public init(zone: DeferredTimeZone) {
        self.zone = zone
        calendars = Calendars(zone: zone)
    }

    /// The two calendars, built on first use rather than at start-up: on Linux a `Calendar` opens ICU, which maps
    /// about 7 MiB of data into the process — a sixth of an idle worker's memory — that a worker running no
    /// calendar job never needs.
    private final class Calendars: Sendable {
        private let zone: DeferredTimeZone
        private let built = Mutex<(gregorian: Calendar, persian: Calendar)?>(nil)

        init(zone: DeferredTimeZone) { self.zone = zone }

        func get() -> (gregorian: Calendar, persian: Calendar) {
            built.withLock { built in
                if let built { return built }
                var gregorian = Calendar(identifier: .gregorian)
                gregorian.timeZone = zone.zone
                var persian = Calendar(identifier: .persian)
                persian.timeZone = zone.zone
                built = (gregorian, persian)
                return (gregorian, persian)
            }
        }
    }

    /// Midnight at the start of `date`'s local day.
    public func startOfDay(_ date: Date) -> Date { gregorian.startOfDay(for: date) }

    /// `date` moved by whole local days (keeps the wall-clock time).
    public func adding(days: Int, to date: Date) -> Date {
        gregorian.date(byAdding: .day, value: days, to: date) ?? date.addingTimeInterval(Double(days) * 86_400)
    }

    /// Whole local days from `from`'s day to `to`'s day (0 on the same day, negative when `to` is earlier).
    public func daysBetween(_ from: Date, _ to: Date) -> Int {
        gregorian.dateComponents([.day], from: startOfDay(from), to: startOfDay(to)).day ?? 0
    }

    /// `date`'s local day at `hour:minute` on the wall clock, set by the calendar. Not midnight plus `hour` hours: a
    /// day the clocks change has 23 or 25 hours, and that put quiet hours' 08:00 at 07:00 (still quiet: the message
    /// was deferred to the next day) or 09:00.
    ///
    /// A time the day skips (clocks going forward: 02:30 in Berlin on 2025-03-30) is the first instant after the gap
    /// (03:00 CEST): the moment the clock first shows a time at or past it. A time the day has twice (clocks going
    /// back) is the first of them.
    public func at(hour: Int, minute: Int = 0, on date: Date) -> Date {
        // nil only for an hour or minute out of range, which no caller passes (quiet hours are 0-23, parsed); counted
        // in Double so even such a value cannot overflow.
        gregorian.date(bySettingHour: hour, minute: minute, second: 0, of: date, matchingPolicy: .nextTime, repeatedTimePolicy: .first, direction: .forward)
            ?? startOfDay(date).addingTimeInterval(Double(hour) * 3600 + Double(minute) * 60)
    }

    /// The local hour (0–23) and minute of `date`.
    public func hourAndMinute(of date: Date) -> (hour: Int, minute: Int) {
        let parts = gregorian.dateComponents([.hour, .minute], from: date)
        return (parts.hour ?? 0, parts.minute ?? 0)
    }

    /// `1403/09/03`: the Persian date with Latin digits (Kavenegar tokens take letters and digits; whether
    /// Persian digits count is not documented).
    public func persianDate(_ date: Date) -> String {
        let parts = persian.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d/%02d/%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
    }
}
