import Foundation
import HoopoeJobs
import Testing

@Suite("Local calendar")
struct LocalCalendarTests {
    let tehran = LocalCalendar.tehran

    @Test("Persian dates in Tehran time, including across Tehran's midnight")
    func persian() {
        // 2024-11-23 07:47:58 UTC = 11:17 Tehran = 1403/09/03.
        let date = Date(timeIntervalSince1970: 1_732_348_078)
        #expect(tehran.persianDate(date) == "1403/09/03")
        // 2024-11-22 21:00 UTC is 00:30 on the 23rd in Tehran: already the next Persian day.
        #expect(tehran.persianDate(Date(timeIntervalSince1970: 1_732_309_200)) == "1403/09/03")
    }

    @Test("day counts follow local days, not 24-hour spans")
    func days() {
        let lateEvening = Date(timeIntervalSince1970: 1_732_300_000)  // 2024-11-22 22:16 Tehran
        let nextMorning = lateEvening.addingTimeInterval(3 * 3600)     // 2024-11-23 01:16 Tehran
        #expect(tehran.daysBetween(lateEvening, nextMorning) == 1)
        #expect(tehran.daysBetween(nextMorning, lateEvening) == -1)
        #expect(tehran.daysBetween(lateEvening, lateEvening.addingTimeInterval(3600)) == 0)
    }

    /// An instant written as ISO 8601 with its offset.
    func instant(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    /// A wall-clock time is counted by the calendar, not as seconds since midnight (a clock-change day has 23 or 25
    /// hours); one the day skips is the first instant after the gap; one it has twice, the first of them.
    @Test("at(hour:minute:on:) on Berlin's clock-change days: the wall-clock time, the end of a skipped hour, the first of a repeated one")
    func wallClockOnClockChangeDays() {
        let berlin = LocalCalendar(timeZone: TimeZone(identifier: "Europe/Berlin")!)
        let spring = instant("2025-03-30T12:00:00+02:00"), fall = instant("2025-10-26T12:00:00+01:00")
        #expect(berlin.at(hour: 8, on: spring) == instant("2025-03-30T08:00:00+02:00"))
        #expect(berlin.at(hour: 22, on: spring) == instant("2025-03-30T22:00:00+02:00"))
        #expect(berlin.at(hour: 1, minute: 59, on: spring) == instant("2025-03-30T01:59:00+01:00"))
        // 02:00-02:59 does not exist that day: 03:00 CEST, when the clock first shows a time at or after it.
        #expect(berlin.at(hour: 2, on: spring) == instant("2025-03-30T03:00:00+02:00"))
        #expect(berlin.at(hour: 2, minute: 30, on: spring) == instant("2025-03-30T03:00:00+02:00"))
        #expect(berlin.at(hour: 8, on: fall) == instant("2025-10-26T08:00:00+01:00"))
        #expect(berlin.at(hour: 22, on: fall) == instant("2025-10-26T22:00:00+01:00"))
        // 02:30 comes twice: the first, in summer time.
        #expect(berlin.at(hour: 2, minute: 30, on: fall) == instant("2025-10-26T02:30:00+02:00"))
        #expect(tehran.at(hour: 8, on: instant("2025-03-30T23:00:00+03:30")) == instant("2025-03-30T08:00:00+03:30"))
    }
}
