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
}
