import Foundation
import HoopoeJobs
import Testing

@Suite("Quiet hours")
struct QuietHoursTests {
    let tehran = LocalCalendar.tehran

    /// 2024-11-23 at `hour`:`minute` Tehran time (+03:30).
    func tehranTime(_ hour: Int, _ minute: Int = 0, day: Int = 23) -> Date {
        var parts = DateComponents(year: 2024, month: 11, day: day, hour: hour, minute: minute)
        parts.timeZone = tehran.timeZone
        return tehran.gregorian.date(from: parts)!
    }

    @Test("22:00-08:00 Tehran: night is quiet, day is not, and a night message waits until 08:00")
    func defaultWindow() {
        let quiet = QuietHours.default
        #expect(quiet.contains(tehranTime(22), in: tehran))
        #expect(quiet.contains(tehranTime(3, 30), in: tehran))
        #expect(quiet.contains(tehranTime(7, 59), in: tehran))
        #expect(!quiet.contains(tehranTime(8), in: tehran))
        #expect(!quiet.contains(tehranTime(21, 59), in: tehran))
        #expect(quiet.nextAllowed(after: tehranTime(23), in: tehran) == tehranTime(8, day: 24))
        #expect(quiet.nextAllowed(after: tehranTime(2), in: tehran) == tehranTime(8))
        #expect(quiet.nextAllowed(after: tehranTime(12), in: tehran) == tehranTime(12))
    }

    /// An instant written as ISO 8601 with its offset.
    func instant(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    /// Quiet hours end at 08:00 on the wall clock, whatever the day's length: midnight + 8 h was 07:00 (still quiet:
    /// deferred again to the next day's 07:00) on the 25-hour day clocks go back, 09:00 on the 23-hour day they go
    /// forward.
    @Test("Berlin's clock-change days: a night message waits until 08:00 local, not an hour off (nor a day late)")
    func clockChangeDays() {
        let berlin = LocalCalendar(timeZone: TimeZone(identifier: "Europe/Berlin")!)
        let quiet = QuietHours.default
        // 2025-10-26: 03:00 CEST became 02:00 CET.
        #expect(quiet.nextAllowed(after: instant("2025-10-26T03:00:00+01:00"), in: berlin) == instant("2025-10-26T08:00:00+01:00"))
        #expect(quiet.nextAllowed(after: instant("2025-10-26T01:30:00+02:00"), in: berlin) == instant("2025-10-26T08:00:00+01:00"))
        #expect(quiet.nextAllowed(after: instant("2025-10-25T23:00:00+02:00"), in: berlin) == instant("2025-10-26T08:00:00+01:00"))
        // 2025-03-30: 02:00 CET became 03:00 CEST.
        #expect(quiet.nextAllowed(after: instant("2025-03-30T05:00:00+02:00"), in: berlin) == instant("2025-03-30T08:00:00+02:00"))
        #expect(quiet.nextAllowed(after: instant("2025-03-30T01:30:00+01:00"), in: berlin) == instant("2025-03-30T08:00:00+02:00"))
        #expect(quiet.nextAllowed(after: instant("2025-03-29T23:00:00+01:00"), in: berlin) == instant("2025-03-30T08:00:00+02:00"))
        // Tehran has no clock changes: unchanged.
        #expect(quiet.nextAllowed(after: instant("2025-10-26T03:00:00+03:30"), in: tehran) == instant("2025-10-26T08:00:00+03:30"))
        #expect(quiet.nextAllowed(after: instant("2025-03-30T23:00:00+03:30"), in: tehran) == instant("2025-03-31T08:00:00+03:30"))
    }

    @Test("parsing: 13-15 is a daytime window, off disables, nonsense is refused with the reason")
    func parsing() throws {
        let daytime = try QuietHours(parsing: "13-15")
        #expect(daytime.contains(tehranTime(14), in: tehran))
        #expect(!daytime.contains(tehranTime(15), in: tehran))
        #expect(!(try QuietHours(parsing: "off")).contains(tehranTime(23), in: tehran))
        #expect(throws: ConfigurationProblem.self) { try QuietHours(parsing: "22") }
        #expect(throws: ConfigurationProblem.self) { try QuietHours(parsing: "25-08") }
        #expect(try QuietHours(parsing: "22:00-08:00") == QuietHours.default)
        // Minutes are refused, not dropped (22:30-07:30 was taken as 22-07: SMS went out 07:00-07:30), and so are
        // stray dashes and non-ASCII digits.
        for text in ["22:30-07:30", "22-07:30", "22-08-", "-22-08", "22--08", "۲۲-۰۸", "22:-08"] {
            #expect(throws: ConfigurationProblem.self, "\(text)") { try QuietHours(parsing: text) }
        }
    }

    /// `22-22` read as no quiet hours at all, with no word: only `off` (or `none`) says that. Through the worker's
    /// settings it stops start-up naming `SMS_QUIET_HOURS` (exit 78).
    @Test("equal hours are refused, not taken as off")
    func equalHours() throws {
        for text in ["22-22", "0-0", "08:00-8"] {
            #expect("\(text)", performing: { try QuietHours(parsing: text) }, throws: { ($0 as? ConfigurationProblem)?.message.contains("same hour") == true })
        }
        #expect(performing: { try SMSSettings(environment: EnvironmentReader(["SMS_QUIET_HOURS": "22-22"])) }, throws: {
            ($0 as? ConfigurationError)?.key == "SMS_QUIET_HOURS"
        })
        #expect(try QuietHours(parsing: "none") == QuietHours(startHour: 0, endHour: 0))
    }

    @Test("the edges: the end minute is allowed, the last instant before it is not; midnight; the end in UTC and in Tehran")
    func edges() {
        let quiet = QuietHours.default
        let eight = tehranTime(8)
        #expect(!quiet.contains(eight, in: tehran) && quiet.nextAllowed(after: eight, in: tehran) == eight)
        #expect(quiet.contains(eight.addingTimeInterval(-0.001), in: tehran))
        #expect(quiet.nextAllowed(after: eight.addingTimeInterval(-0.001), in: tehran) == eight)
        // The last instant of the day and the first of the next wait for the same 08:00.
        let midnight = tehranTime(0, day: 24)
        #expect(quiet.nextAllowed(after: midnight.addingTimeInterval(-0.001), in: tehran) == tehranTime(8, day: 24))
        #expect(quiet.nextAllowed(after: midnight, in: tehran) == tehranTime(8, day: 24))
        // HOOPOE_TIME_ZONE=UTC: 22-08 are UTC hours, 01:30-11:30 in Tehran.
        let utc = LocalCalendar(timeZone: TimeZone(identifier: "UTC")!)
        #expect(quiet.contains(tehranTime(9), in: utc) && !quiet.contains(tehranTime(9), in: tehran))
        #expect(quiet.nextAllowed(after: tehranTime(9), in: utc) == tehranTime(11, 30))
        // No clock change in Tehran since 2022: the nights that had one (1 Farvardin, 30 Shahrivar) end at 08:00 +03:30.
        #expect(quiet.nextAllowed(after: instant("2025-03-21T23:30:00+03:30"), in: tehran) == instant("2025-03-22T08:00:00+03:30"))
        #expect(quiet.nextAllowed(after: instant("2025-09-21T23:30:00+03:30"), in: tehran) == instant("2025-09-22T08:00:00+03:30"))
        #expect(tehran.timeZone.secondsFromGMT(for: instant("2025-06-21T12:00:00Z")) == 12_600)
    }

    @Test("caught by quiet hours: inside them, or less than 15 minutes before they begin; their start from their end")
    func caught() {
        let quiet = QuietHours.default
        #expect(quiet.endIfCaught(at: tehranTime(21, 44), in: tehran) == nil)
        #expect(quiet.endIfCaught(at: tehranTime(21, 45), in: tehran) == tehranTime(8, day: 24))
        #expect(quiet.endIfCaught(at: tehranTime(23), in: tehran) == tehranTime(8, day: 24))
        #expect(quiet.endIfCaught(at: tehranTime(7, 59), in: tehran) == tehranTime(8))
        #expect(quiet.endIfCaught(at: tehranTime(8), in: tehran) == nil)
        #expect(QuietHours(startHour: 0, endHour: 0).endIfCaught(at: tehranTime(21, 59), in: tehran) == nil)
        // From midnight: 23:50 is caught by the next day's.
        let fromMidnight = QuietHours(startHour: 0, endHour: 8)
        #expect(fromMidnight.endIfCaught(at: tehranTime(23, 50), in: tehran) == tehranTime(8, day: 24))
        #expect(fromMidnight.start(ofQuietHoursEndingAt: tehranTime(8, day: 24), in: tehran) == tehranTime(0, day: 24))
        #expect(quiet.start(ofQuietHoursEndingAt: tehranTime(8, day: 24), in: tehran) == tehranTime(22))
        #expect(QuietHours(startHour: 13, endHour: 15).start(ofQuietHoursEndingAt: tehranTime(15), in: tehran) == tehranTime(13))
    }
}
