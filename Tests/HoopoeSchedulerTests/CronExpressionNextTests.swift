import Foundation
import HoopoeScheduler
import TestSupport
import Testing

/// `next(after:in:)`, checked against hand-computed instants written with their UTC offset.
@Suite struct CronExpressionNextTests {
    /// The next `count` runs after `start`, written in `zone` with their offset.
    func runs(_ expression: String, after start: String, in zone: String = "UTC", count: Int = 3) throws -> [String] {
        let cron = try CronExpression(expression)
        let timeZone = try #require(TimeZone(identifier: zone))
        var cursor = try #require(SchedulerTestTime.date(start))
        var result: [String] = []
        for _ in 0..<count {
            guard let next = cron.next(after: cursor, in: timeZone) else { break }
            #expect(next > cursor)
            result.append(SchedulerTestTime.format(next, in: timeZone))
            cursor = next
        }
        return result
    }

    @Test func everyFifteenMinutes() throws {
        #expect(try runs("*/15 * * * *", after: "2025-06-01T10:07:30Z") == [
            "2025-06-01T10:15:00+00:00", "2025-06-01T10:30:00+00:00", "2025-06-01T10:45:00+00:00",
        ])
    }

    @Test func strictlyAfterEvenOnAMatch() throws {
        #expect(try runs("0 * * * *", after: "2025-06-01T10:00:00Z", count: 1) == ["2025-06-01T11:00:00+00:00"])
        #expect(try runs("0 * * * *", after: "2025-06-01T09:59:59.9Z", count: 1) == ["2025-06-01T10:00:00+00:00"])
    }

    @Test func sixFieldsWithSeconds() throws {
        #expect(try runs("*/20 * * * * *", after: "2025-06-01T10:00:05Z") == [
            "2025-06-01T10:00:20+00:00", "2025-06-01T10:00:40+00:00", "2025-06-01T10:01:00+00:00",
        ])
        #expect(try runs("30 0 9 * * *", after: "2025-06-01T09:00:30Z", count: 2) == [
            "2025-06-02T09:00:30+00:00", "2025-06-03T09:00:30+00:00",
        ])
    }

    @Test func fiveFieldsRunAtSecondZero() throws {
        #expect(try runs("5 4 * * *", after: "2025-06-01T04:05:00.5Z", count: 1) == ["2025-06-02T04:05:00+00:00"])
    }

    @Test func dailyInTehran() throws {
        // Iran has had no daylight saving time since 2022: +03:30 all year, across its old March/September switches.
        #expect(try runs("0 9 * * *", after: "2025-03-20T12:00:00+03:30", in: "Asia/Tehran") == [
            "2025-03-21T09:00:00+03:30", "2025-03-22T09:00:00+03:30", "2025-03-23T09:00:00+03:30",
        ])
        #expect(try runs("@daily", after: "2025-09-20T12:00:00+03:30", in: "Asia/Tehran", count: 2) == [
            "2025-09-21T00:00:00+03:30", "2025-09-22T00:00:00+03:30",
        ])
    }

    @Test func dayOfMonthOrDayOfWeekWhenBothAreRestricted() throws {
        // Vixie cron: the 13th, and every Friday.
        #expect(try runs("0 0 13 * FRI", after: "2024-10-01T00:00:00Z", count: 5) == [
            "2024-10-04T00:00:00+00:00", "2024-10-11T00:00:00+00:00", "2024-10-13T00:00:00+00:00",
            "2024-10-18T00:00:00+00:00", "2024-10-25T00:00:00+00:00",
        ])
    }

    @Test func aStarredDayOfMonthMeansAnd() throws {
        // `*/10` starts with `*`, so the day must be both 1/11/21/31 and a Monday (Vixie's DOM_STAR).
        #expect(try runs("0 0 */10 * MON", after: "2024-01-01T00:00:00Z", count: 4) == [
            "2024-03-11T00:00:00+00:00", "2024-04-01T00:00:00+00:00", "2024-07-01T00:00:00+00:00", "2024-10-21T00:00:00+00:00",
        ])
    }

    @Test func sundayIsZeroAndSeven() throws {
        let zero = try runs("0 12 * * 0", after: "2025-06-01T13:00:00Z")
        #expect(zero == (try runs("0 12 * * 7", after: "2025-06-01T13:00:00Z")))
        #expect(zero == (try runs("0 12 * * sun", after: "2025-06-01T13:00:00Z")))
        #expect(zero.first == "2025-06-08T12:00:00+00:00")
        #expect(try runs("0 12 * * 5-7", after: "2025-06-05T13:00:00Z") == [  // Fri, Sat, Sun
            "2025-06-06T12:00:00+00:00", "2025-06-07T12:00:00+00:00", "2025-06-08T12:00:00+00:00",
        ])
        // `7/2` starts at 7 and ends there: Sunday (it matched nothing, and the task never ran); `1/2` runs to 7, as
        // cronie reads it: Monday, Wednesday, Friday, Sunday.
        #expect(try runs("0 12 * * 7/2", after: "2025-06-01T13:00:00Z") == zero)
        #expect(try runs("0 12 * * 1/2", after: "2025-06-01T13:00:00Z", count: 4) == [  // 2025-06-01 is a Sunday
            "2025-06-02T12:00:00+00:00", "2025-06-04T12:00:00+00:00", "2025-06-06T12:00:00+00:00", "2025-06-08T12:00:00+00:00",
        ])
    }

    @Test func namesListsRangesAndSteps() throws {
        #expect(try runs("0 8-18/5 * * MON-FRI", after: "2025-06-06T12:00:00Z", count: 4) == [  // Friday afternoon
            "2025-06-06T13:00:00+00:00", "2025-06-06T18:00:00+00:00", "2025-06-09T08:00:00+00:00", "2025-06-09T13:00:00+00:00",
        ])
        #expect(try runs("30 4 1 jan,Jul *", after: "2025-02-01T00:00:00Z", count: 2) == [
            "2025-07-01T04:30:00+00:00", "2026-01-01T04:30:00+00:00",
        ])
        #expect(try runs("50/5 * * * *", after: "2025-06-01T10:00:00Z") == [
            "2025-06-01T10:50:00+00:00", "2025-06-01T10:55:00+00:00", "2025-06-01T11:50:00+00:00",
        ])
    }

    @Test func monthEnds() throws {
        #expect(try runs("0 0 31 * *", after: "2024-01-31T00:00:00Z") == [
            "2024-03-31T00:00:00+00:00", "2024-05-31T00:00:00+00:00", "2024-07-31T00:00:00+00:00",
        ])
        #expect(try runs("0 0 30 * *", after: "2024-01-30T00:00:00Z", count: 2) == [
            "2024-03-30T00:00:00+00:00", "2024-04-30T00:00:00+00:00",
        ])
        #expect(try runs("59 23 28-31 12 *", after: "2024-12-30T23:59:00Z", count: 2) == [
            "2024-12-31T23:59:00+00:00", "2025-12-28T23:59:00+00:00",
        ])
    }

    @Test func february29th() throws {
        #expect(try runs("0 12 29 2 *", after: "2024-03-01T00:00:00Z") == [
            "2028-02-29T12:00:00+00:00", "2032-02-29T12:00:00+00:00", "2036-02-29T12:00:00+00:00",
        ])
        // 2100 is not a leap year: from 2097 the next February 29th is in 2104.
        #expect(try runs("0 12 29 2 *", after: "2097-01-01T00:00:00Z", count: 1) == ["2104-02-29T12:00:00+00:00"])
    }

    /// A day of the month and a day of the week that must agree (Vixie's rule for a `*`-led field) can be more than
    /// ten years apart. The search stopped at ten years: after one run the next was nil, and the task never ran again.
    @Test func matchesMoreThanTenYearsApart() throws {
        // The 1st of February on a Monday (`*/31` is the 1st only, and `*`-led: both must hold).
        #expect(try runs("0 0 */31 2 MON", after: "2026-12-01T00:00:00Z") == [
            "2027-02-01T00:00:00+00:00", "2038-02-01T00:00:00+00:00", "2044-02-01T00:00:00+00:00",
        ])
        // February 29th on a Sunday: 2032, 2060, 2088.
        #expect(try runs("0 0 29 2 */7", after: "2030-01-01T00:00:00Z") == [
            "2032-02-29T00:00:00+00:00", "2060-02-29T00:00:00+00:00", "2088-02-29T00:00:00+00:00",
        ])
        // In a zone with daylight saving time, across its transitions: the 1st of March on a Sunday, 2026 then 2037.
        #expect(try runs("49 23 */32 3 0", after: "2026-01-01T00:00:00Z", in: "Europe/Berlin", count: 2) == [
            "2026-03-01T23:49:00+01:00", "2037-03-01T23:49:00+01:00",
        ])
    }

    @Test func macros() throws {
        #expect(try runs("@yearly", after: "2024-05-01T00:00:00Z", count: 2) == ["2025-01-01T00:00:00+00:00", "2026-01-01T00:00:00+00:00"])
        #expect(try runs("@monthly", after: "2024-05-01T00:00:00Z", count: 1) == ["2024-06-01T00:00:00+00:00"])
        #expect(try runs("@weekly", after: "2025-06-04T00:00:00Z", count: 1) == ["2025-06-08T00:00:00+00:00"])
        #expect(try runs("@hourly", after: "2025-06-04T00:00:00Z", count: 1) == ["2025-06-04T01:00:00+00:00"])
        #expect(try runs("@midnight", after: "2025-06-04T10:00:00Z", count: 1) == ["2025-06-05T00:00:00+00:00"])
    }

    // MARK: Daylight saving time in Europe/Berlin (2024: forward on March 31 at 02:00, back on October 27 at 03:00)

    @Test func springForwardRunsASkippedDailyTaskOnceAtTheJump() throws {
        #expect(try runs("30 2 * * *", after: "2024-03-30T12:00:00+01:00", in: "Europe/Berlin") == [
            "2024-03-31T03:00:00+02:00",
            "2024-04-01T02:30:00+02:00", "2024-04-02T02:30:00+02:00",
        ])
    }

    /// Asked in the last second before the jump (a scheduler waking then), the search starts at the jump's own instant:
    /// its skipped readings were passed over and the daily task's run went to the next day.
    @Test func springForwardAskedInTheLastSecondBeforeTheJumpStillRunsAtIt() throws {
        #expect(try runs("30 2 * * *", after: "2024-03-31T01:59:59+01:00", in: "Europe/Berlin", count: 2) == [
            "2024-03-31T03:00:00+02:00", "2024-04-01T02:30:00+02:00",
        ])
        #expect(try runs("30 2 * * *", after: "2024-03-31T01:59:59.5+01:00", in: "Europe/Berlin", count: 1) == ["2024-03-31T03:00:00+02:00"])
    }

    @Test func springForwardEveryMinuteHasNoBurst() throws {
        #expect(try runs("* * * * *", after: "2024-03-31T01:58:30+01:00", in: "Europe/Berlin") == [
            "2024-03-31T01:59:00+01:00", "2024-03-31T03:00:00+02:00", "2024-03-31T03:01:00+02:00",
        ])
        #expect(try runs("0 * * * *", after: "2024-03-31T00:30:00+01:00", in: "Europe/Berlin") == [
            "2024-03-31T01:00:00+01:00", "2024-03-31T03:00:00+02:00", "2024-03-31T04:00:00+02:00",
        ])
    }

    @Test func springForwardLeavesTasksOutsideTheGapAlone() throws {
        #expect(try runs("0 3 * * *", after: "2024-03-30T12:00:00+01:00", in: "Europe/Berlin", count: 2) == [
            "2024-03-31T03:00:00+02:00", "2024-04-01T03:00:00+02:00",
        ])
    }

    @Test func fallBackRunsADailyTaskOnce() throws {
        #expect(try runs("30 2 * * *", after: "2024-10-26T12:00:00+02:00", in: "Europe/Berlin") == [
            "2024-10-27T02:30:00+02:00", "2024-10-28T02:30:00+01:00", "2024-10-29T02:30:00+01:00",
        ])
        #expect(try runs("*/30 2 * * *", after: "2024-10-27T01:50:00+02:00", in: "Europe/Berlin") == [
            "2024-10-27T02:00:00+02:00", "2024-10-27T02:30:00+02:00", "2024-10-28T02:00:00+01:00",
        ])
        // Starting inside the repeated hour: the day's 02:30 has already run in the first pass.
        #expect(try runs("30 2 * * *", after: "2024-10-27T02:10:00+01:00", in: "Europe/Berlin", count: 1) == [
            "2024-10-28T02:30:00+01:00",
        ])
    }

    @Test func fallBackRunsAnHourlyTaskEveryRealHour() throws {
        #expect(try runs("0 * * * *", after: "2024-10-27T00:30:00+02:00", in: "Europe/Berlin", count: 4) == [
            "2024-10-27T01:00:00+02:00", "2024-10-27T02:00:00+02:00", "2024-10-27T02:00:00+01:00", "2024-10-27T03:00:00+01:00",
        ])
        #expect(try runs("15 * * * *", after: "2024-10-27T02:50:00+02:00", in: "Europe/Berlin", count: 2) == [
            "2024-10-27T02:15:00+01:00", "2024-10-27T03:15:00+01:00",
        ])
    }

    @Test func isFastForSparseExpressions() throws {
        let cron = try CronExpression("0 12 29 2 *")
        let berlin = try #require(TimeZone(identifier: "Europe/Berlin"))
        let start = Date(timeIntervalSince1970: 4_000_000_000)  // 2096
        let elapsed = threadCPUTime {  // CPU time: the parallel phase's load does not count
            for offset in 0..<200 {
                _ = cron.next(after: start.addingTimeInterval(Double(offset) * 86_400), in: berlin)
            }
        }
        #expect(elapsed < .seconds(2), "200 searches across 8 years each took \(elapsed)")
    }
}
