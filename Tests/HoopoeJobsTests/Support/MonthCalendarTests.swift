import Foundation
import HoopoeJobs
import Testing

@Suite("Month calendar")
struct MonthCalendarTests {
    let tehran = LocalCalendar.tehran

    @Test("Persian months in Tehran time: label, first instant, and Nowruz as the start of the month after Esfand")
    func persian() {
        // 2024-11-23 07:47:58 UTC = 11:17 Tehran = 1403/09/03.
        let azar = MonthCalendar.persian.month(of: Date(timeIntervalSince1970: 1_732_348_078), in: tehran)
        #expect(azar.label == "1403-09")
        #expect(tehran.persianDate(azar.start) == "1403/09/01" && tehran.hourAndMinute(of: azar.start) == (0, 0))
        // Nowruz 1404 (the first of Farvardin) is 2025-03-21: the month after Esfand 1403 starts there.
        let esfand = MonthCalendar.persian.month(of: Date(timeIntervalSince1970: 1_741_000_000), in: tehran)  // 2025-03-03
        #expect(esfand.label == "1403-12")
        #expect(tehran.persianDate(esfand.end) == "1404/01/01")
    }

    @Test("Gregorian months counted in Tehran time: 2024-11-30 21:00 UTC is already December there")
    func gregorian() {
        let december = MonthCalendar.gregorian.month(of: Date(timeIntervalSince1970: 1_733_000_400), in: tehran)
        #expect(december.label == "2024-12")
        #expect(december.end.timeIntervalSince(december.start) == 31 * 86_400)
    }

    @Test("a bad month calendar names its variable and lists the choices")
    func badSetting() {
        do {
            _ = try FreeCreditSettings(environment: EnvironmentReader(["FREECREDIT_MONTH_CALENDAR": "lunar"]))
            Issue.record("lunar was accepted")
        } catch {
            #expect(error.key == "FREECREDIT_MONTH_CALENDAR" && error.message == "expected persian or gregorian, got lunar")
        }
    }
}
