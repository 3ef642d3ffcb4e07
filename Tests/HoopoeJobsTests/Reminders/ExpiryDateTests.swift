import Foundation
import HoopoeJobs
import Testing

@Suite("Reminders: expires_at formats")
struct ExpiryDateTests {
    let calendar = LocalCalendar.tehran

    func resolve(_ json: String) throws -> Result<Date, ExpiryDateError> {
        struct Wrapper: Decodable { let e: ExpiryDate }
        return try JSONDecoder().decode(Wrapper.self, from: Data("{\"e\":\(json)}".utf8)).e.resolve(in: calendar)
    }

    @Test("Unix seconds as a number or a digit string, ISO 8601 with a zone, local Gregorian dates")
    func gregorianForms() throws {
        #expect(try resolve("1734220800").get() == Date(timeIntervalSince1970: 1_734_220_800))
        #expect(try resolve("\"1734220800\"").get() == Date(timeIntervalSince1970: 1_734_220_800))
        #expect(try resolve("\"2024-12-15T00:00:00Z\"").get() == Date(timeIntervalSince1970: 1_734_220_800))
        #expect(try resolve("\"2024-12-15T00:00:00Z\\r\\n\"").get() == Date(timeIntervalSince1970: 1_734_220_800), "a text line's end, as before")
        #expect(try resolve("\"2024-12-15T03:30:00.250+03:30\"").get() == Date(timeIntervalSince1970: 1_734_220_800.25))
        #expect(try resolve("\"2024-12-15\"").get() == tehranDayEnd(2024, 12, 15), "a date alone is the end of that Tehran day")
        #expect(try resolve("\"2024-12-15 09:30\"").get() == tehran(2024, 12, 15, 9, 30))
    }

    @Test("Jalali dates as Kingfisher shows them, also with Persian digits, are Tehran days")
    func jalali() throws {
        // 1398-10-25 is 2020-01-15; 1403-09-25 is 2024-12-15.
        #expect(try resolve("\"1398-10-25\"").get() == tehranDayEnd(2020, 1, 15))
        #expect(try resolve("\"1403/09/25\"").get() == tehranDayEnd(2024, 12, 15))
        #expect(try resolve("\"1398-09-15 03:30\"").get() == tehran(2019, 12, 6, 3, 30))
        #expect(try resolve("\"۱۴۰۳-۰۹-۲۵\"").get() == tehranDayEnd(2024, 12, 15))
        #expect(calendar.persianDate(tehran(2024, 12, 15)) == "1403/09/25")
    }

    @Test("nonsense, milliseconds and days a month lacks are refused with a reason")
    func refused() throws {
        // 1e308 and year 9999 would overflow the day arithmetic and Redis TTLs downstream: refused, never a crash.
        for bad in ["\"tomorrow\"", "1734220800000", "-5", "1e308", "\"9999-01-01T00:00:00Z\"", "\"0001-01-01T00:00:00Z\"", "\"1403-13-01\"", "\"2023-02-30\"", "\"1403-12-31\"", "\"\"",
                    // ISO 8601 that Foundation's parser took: a day the month lacks rolled into the next month,
                    // trailing text was ignored, an offset past ±14:00 or a minute past 59 read as another.
                    "\"2023-02-30T10:00:00Z\"", "\"2025-02-29T20:30:00+03:30\"", "\"2024-12-15T20:30:00Zjunk\"",
                    "\"2024-12-15T20:30:00+99:00\"", "\"2024-12-15T20:30:00+03:99\"", "\"2024-12-15T24:00:00Z\"",
                    "\"2024-12-15T20:30:00+03:30:00\"", "\"2024-1-5T20:30:00Z\""] {
            guard case .failure(let error) = try resolve(bad) else {
                Issue.record("\(bad) was accepted")
                continue
            }
            #expect(error.message.contains("expires_at"))
        }
    }

    @Test("ISO 8601: a day the month lacks is named; the offset forms, -00:00, ±14:00 and fractional seconds are read")
    func strictISO8601() throws {
        guard case .failure(let error) = try resolve("\"2023-02-30T10:00:00Z\"") else { Issue.record("accepted"); return }
        #expect(error.message.contains("expires_at 2023-02-30T10:00:00Z") && error.message.contains("no day 30"), "\(error.message)")
        #expect(try resolve("\"2024-02-29T20:30:00+03:30\"").get() == Date(timeIntervalSince1970: 1_709_226_000))
        #expect(try resolve("\"2024-12-15T03:30:00+0330\"").get() == Date(timeIntervalSince1970: 1_734_220_800))
        #expect(try resolve("\"2024-12-15T03:00:00+03\"").get() == Date(timeIntervalSince1970: 1_734_220_800))
        #expect(try resolve("\"2024-12-15T00:00:00-00:00\"").get() == Date(timeIntervalSince1970: 1_734_220_800))
        #expect(try resolve("\"2024-12-15T14:00:00+14:00\"").get() == Date(timeIntervalSince1970: 1_734_220_800))
        #expect(try resolve("\"2024-12-14T10:00:00-14:00\"").get() == Date(timeIntervalSince1970: 1_734_220_800))
        #expect(try resolve("\"2024-12-15T00:00:00.5Z\"").get() == Date(timeIntervalSince1970: 1_734_220_800.5))
    }
}
