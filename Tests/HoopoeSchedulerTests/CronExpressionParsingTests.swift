import Foundation
import HoopoeScheduler
import Testing

@Suite struct CronExpressionParsingTests {
    @Test(arguments: [
        "* * * * *", "0 9 * * *", "*/15 * * * *", "0 0 1,15 * *", "0 8-18/2 * * MON-FRI", "30 4 1 jan,Jul *",
        "0 0 * * 7", "*/10 * * * * *", "0 30 9 * * *", "5/20 * * * *", "0 0 13 * FRI", "  0   9 * *   *  ",
        "@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly", "@DAILY",
    ])
    func parses(_ expression: String) throws {
        let cron = try CronExpression(expression)
        #expect(cron.source == expression)
        #expect(cron.hasSeconds == (expression.split(separator: " ").count == 6))
    }

    struct Invalid: Sendable, CustomStringConvertible {
        let expression: String
        let code: CronExpressionError.Code
        let field: CronField?
        let message: String
        var description: String { expression }
    }

    @Test(arguments: [
        Invalid(expression: "", code: .fieldCount, field: nil, message: "expected 5 fields"),
        Invalid(expression: "* * * *", code: .fieldCount, field: nil, message: "found 4"),
        Invalid(expression: "* * * * * * *", code: .fieldCount, field: nil, message: "found 7"),
        Invalid(expression: "60 * * * *", code: .outOfRange, field: .minute, message: "minute: 60 is out of range 0–59"),
        Invalid(expression: "0 24 * * *", code: .outOfRange, field: .hour, message: "hour: 24 is out of range 0–23"),
        Invalid(expression: "0 0 0 * *", code: .outOfRange, field: .dayOfMonth, message: "day of month: 0 is out of range 1–31"),
        Invalid(expression: "0 0 * 13 *", code: .outOfRange, field: .month, message: "month: 13 is out of range 1–12"),
        Invalid(expression: "0 0 * * 8", code: .outOfRange, field: .dayOfWeek, message: "day of week: 8 is out of range 0–7"),
        Invalid(expression: "61 * * * * *", code: .outOfRange, field: .second, message: "second: 61 is out of range 0–59"),
        Invalid(expression: "0 9 * * MOM", code: .invalidValue, field: .dayOfWeek, message: "\"MOM\" is not a number or a weekday name (SUN–SAT)"),
        Invalid(expression: "0 9 * JANUARY *", code: .invalidValue, field: .month, message: "\"JANUARY\" is not a number or a month name"),
        Invalid(expression: "x 9 * * *", code: .invalidValue, field: .minute, message: "minute: \"x\" is not a number"),
        Invalid(expression: "0 9 * * -1", code: .invalidValue, field: .dayOfWeek, message: "\"\" is not a number"),
        Invalid(expression: "*/0 * * * *", code: .invalidStep, field: .minute, message: "step \"0\" in \"*/0\" is not a positive whole number"),
        Invalid(expression: "*/x * * * *", code: .invalidStep, field: .minute, message: "step \"x\""),
        Invalid(expression: "0 17-9 * * *", code: .invalidRange, field: .hour, message: "range \"17-9\" runs backwards"),
        Invalid(expression: "1,,2 * * * *", code: .emptyValue, field: .minute, message: "empty list element"),
        Invalid(expression: "@reboot", code: .unknownMacro, field: nil, message: "unknown macro @reboot"),
        Invalid(expression: "0 0 30 2 *", code: .neverMatches, field: .dayOfMonth, message: "never run"),
        Invalid(expression: "0 0 31 4,6,9,11 *", code: .neverMatches, field: .dayOfMonth, message: "never run"),
    ])
    func refuses(_ invalid: Invalid) {
        #expect {
            try CronExpression(invalid.expression)
        } throws: { error in
            guard let error = error as? CronExpressionError else { return false }
            #expect(error.code == invalid.code)
            #expect(error.field == invalid.field)
            #expect(error.description.contains(invalid.message), "\(error.description)")
            #expect(error.description.hasPrefix("invalid cron expression \"\(invalid.expression)\""))
            return true
        }
    }

    @Test func errorNamesTheFieldAndTheValue() throws {
        let error = try #require(throws: CronExpressionError.self) { try CronExpression("0 9 1-40 * *") }
        #expect(error.field == .dayOfMonth)
        #expect(error.value == "1-40")
        #expect(error.description == "invalid cron expression \"0 9 1-40 * *\": day of month: 40 is out of range 1–31")
    }

    /// A step past the field's span matches only where the range starts, however large: `*/60` in minutes is hourly, and
    /// a step near `Int.max` neither traps nor wraps (a review suspected the stride's next value would overflow).
    @Test(arguments: ["*/60 * * * *", "*/9223372036854775807 * * * *", "1/9223372036854775807 * * * *", "0 0 */9223372036854775807 * *"])
    func aHugeStepMatchesOnlyTheStart(_ expression: String) throws {
        let cron = try CronExpression(expression)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = .gmt
        let start = try #require(calendar.date(from: DateComponents(year: 2025, month: 2, day: 28, hour: 12)))
        let first = try #require(cron.next(after: start, in: .gmt))
        let second = try #require(cron.next(after: first, in: .gmt))
        if expression.hasPrefix("0 0 */") {
            #expect(calendar.dateComponents([.month, .day, .hour, .minute], from: first) == DateComponents(month: 3, day: 1, hour: 0, minute: 0))
            #expect(second.timeIntervalSince(first) == 31 * 86_400, "the 1st of each month only")
        } else {
            #expect(calendar.component(.minute, from: first) == (expression.hasPrefix("1/") ? 1 : 0))
            #expect(second.timeIntervalSince(first) == 3600, "hourly")
        }
    }

    @Test func february29thIsAllowedAndADayOfWeekRescuesAnImpossibleDate() throws {
        _ = try CronExpression("0 0 29 2 *")
        _ = try CronExpression("0 0 30 2 MON")  // OR rule: every Monday in February
    }
}
