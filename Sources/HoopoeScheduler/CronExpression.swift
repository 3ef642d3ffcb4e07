// Cron parsing and matching are written by hand: no package on the project's list of Swift packages parses
// cron expressions, and the grammar is small. The grammar and the day rule follow Vixie cron (crontab(5)).

import Foundation

/// A parsed cron expression: when a periodic task is due.
///
/// Accepts 5 fields (`minute hour day-of-month month day-of-week`, running at second 0) or 6 fields with
/// seconds first (`second minute hour day-of-month month day-of-week`), and the macros `@yearly`
/// (`@annually`), `@monthly`, `@weekly`, `@daily` (`@midnight`) and `@hourly`. Each field takes `*`,
/// numbers, lists `a,b`, ranges `a-b`, and steps `*/n`, `a-b/n` and `a/n` (from `a` to the field's
/// end). Months take JAN–DEC and days of the week SUN–SAT, in any case; 0 and 7 are both Sunday.
///
/// When both the day of the month and the day of the week are restricted, a day matches if *either*
/// does (`0 0 1 * MON` runs on the 1st and on every Monday), as in Vixie cron. As there, a field that
/// starts with `*` counts as unrestricted for this rule, so `0 0 */2 * MON` means "every other day,
/// if it is a Monday".
///
/// The expression is only the pattern; ``next(after:in:)`` applies it in a time zone.
public struct CronExpression: Sendable, Hashable, CustomStringConvertible {
    /// The expression as written (macros are kept as written).
    public let source: String
    /// True for a 6-field expression, whose first field is seconds.
    public let hasSeconds: Bool

    /// Bit n set: value n allowed. Days of the week use bits 0–6 (7 is folded onto 0).
    let seconds: UInt64
    let minutes: UInt64
    let hours: UInt64
    let daysOfMonth: UInt64
    let months: UInt64
    let daysOfWeek: UInt64
    /// The day-of-month field starts with `*` (Vixie cron's DOM_STAR).
    let dayOfMonthIsStar: Bool
    /// The day-of-week field starts with `*` (Vixie cron's DOW_STAR).
    let dayOfWeekIsStar: Bool

    /// Parses an expression.
    /// - Throws: ``CronExpressionError`` naming the field and the value at fault.
    public init(_ text: String) throws(CronExpressionError) {
        source = text
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        var expanded = trimmed
        if trimmed.hasPrefix("@") {
            guard let macro = Self.macros[trimmed.lowercased()] else {
                throw CronExpressionError(
                    .unknownMacro, expression: text, field: nil, value: trimmed,
                    reason: "unknown macro \(trimmed) (known: @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly)")
            }
            expanded = macro
        }
        let parts = expanded.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard parts.count == 5 || parts.count == 6 else {
            throw CronExpressionError(
                .fieldCount, expression: text, field: nil, value: trimmed,
                reason: "expected 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first, found \(parts.count)")
        }
        hasSeconds = parts.count == 6
        let fields = hasSeconds ? Array(parts) : ["0"] + parts
        seconds = try Self.parse(fields[0], as: .second, in: text)
        minutes = try Self.parse(fields[1], as: .minute, in: text)
        hours = try Self.parse(fields[2], as: .hour, in: text)
        daysOfMonth = try Self.parse(fields[3], as: .dayOfMonth, in: text)
        months = try Self.parse(fields[4], as: .month, in: text)
        daysOfWeek = try Self.parse(fields[5], as: .dayOfWeek, in: text)
        dayOfMonthIsStar = fields[3].hasPrefix("*")
        dayOfWeekIsStar = fields[5].hasPrefix("*")
        try checkSomeDayMatches()
    }

    public var description: String { source }

    /// True when every hour of the day is allowed: such a task also runs in the second pass of an hour
    /// that the clocks repeat when daylight saving time ends (see ``next(after:in:)``).
    var runsEveryHour: Bool { hours == (1 << 24) - 1 }

    /// Whether the day passes the day-of-month and day-of-week fields, with Vixie cron's OR rule.
    /// - Parameters:
    ///   - day: day of the month, 1–31.
    ///   - weekday: 0 (Sunday) – 6.
    func matchesDay(_ day: Int, weekday: Int) -> Bool {
        let dayOfMonth = daysOfMonth & (1 << UInt64(day)) != 0
        let dayOfWeek = daysOfWeek & (1 << UInt64(weekday)) != 0
        if dayOfMonthIsStar || dayOfWeekIsStar { return dayOfMonth && dayOfWeek }
        return dayOfMonth || dayOfWeek
    }

    private static let macros: [String: String] = [
        "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
        "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
    ]

    /// Refuses day-of-month fields that no allowed month has (`30 2`, `31 4,6,9,11`) when the day of the
    /// week cannot rescue them: a task that never runs is a typo, better caught at start-up.
    private func checkSomeDayMatches() throws(CronExpressionError) {
        // With a restricted day of the week (and no `*` on the day of the month) some weekday falls in every month.
        guard dayOfWeekIsStar else { return }
        for month in 1...12 where months & (1 << UInt64(month)) != 0 {
            let longest = CivilTime.daysInMonth(month, year: 2000)  // a leap year: February 29th counts
            if daysOfMonth & ((1 << UInt64(longest + 1)) - 1) != 0 { return }
        }
        throw CronExpressionError(
            .neverMatches, expression: source, field: .dayOfMonth, value: "",
            reason: "no allowed month has any of these days, so the task would never run")
    }

    /// Parses one field into a bit set.
    private static func parse(_ text: Substring, as field: CronField, in expression: String) throws(CronExpressionError) -> UInt64 {
        var bits: UInt64 = 0
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            func fail(_ code: CronExpressionError.Code, _ reason: String) -> CronExpressionError {
                CronExpressionError(code, expression: expression, field: field, value: String(item), reason: reason)
            }
            guard !item.isEmpty else { throw fail(.emptyValue, "empty list element in \"\(text)\"") }
            let pieces = item.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
            var step = 1
            if pieces.count == 2 {
                guard let parsed = Int(pieces[1]), parsed > 0 else {
                    throw fail(.invalidStep, "step \"\(pieces[1])\" in \"\(item)\" is not a positive whole number")
                }
                step = parsed
            }
            let base = pieces[0]
            let low: Int
            let high: Int
            if base == "*" {
                low = field.lowerBound
                high = field.starUpperBound
            } else if let dash = base.firstIndex(of: "-") {
                low = try value(base[..<dash], field, item, expression)
                high = try value(base[base.index(after: dash)...], field, item, expression)
                guard low <= high else {
                    throw fail(.invalidRange, "range \"\(base)\" runs backwards (\(low) is after \(high))")
                }
            } else {
                low = try value(base, field, item, expression)
                // `N/step` runs from N to the field's end, the day of the week's being 7 (Sunday again), as cronie
                // reads it: `1/2` is Monday, Wednesday, Friday and Sunday, `7/2` Sunday. With `*`'s end, 6, `7/2` matched
                // nothing (the task never ran) and `1/2` left Sunday out.
                high = pieces.count == 2 ? field.upperBound : low
            }
            for number in stride(from: low, through: high, by: step) {
                let folded = field == .dayOfWeek && number == 7 ? 0 : number
                bits |= 1 << UInt64(folded)
            }
        }
        return bits
    }

    /// Parses one number or name and checks it against the field's range.
    private static func value(_ text: Substring, _ field: CronField, _ item: Substring, _ expression: String) throws(CronExpressionError) -> Int {
        let number: Int
        if let parsed = Int(text), text.allSatisfy(\.isASCII), text.first != "+" {
            number = parsed
        } else if let named = field.names[text.uppercased()] {
            number = named
        } else {
            let known = switch field {
            case .month: "a number or a month name (JAN–DEC)"
            case .dayOfWeek: "a number or a weekday name (SUN–SAT)"
            default: "a number"
            }
            throw CronExpressionError(
                .invalidValue, expression: expression, field: field, value: String(item),
                reason: "\"\(text)\" is not \(known)")
        }
        guard (field.lowerBound...field.upperBound).contains(number) else {
            throw CronExpressionError(
                .outOfRange, expression: expression, field: field, value: String(item),
                reason: "\(number) is out of range \(field.lowerBound)–\(field.upperBound)")
        }
        return number
    }
}
