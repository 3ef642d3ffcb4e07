import Foundation

/// An ISO 8601 time with an offset, read strictly, as clients and operators write it: `2024-12-15T20:30:00Z`,
/// `2024-12-15T20:30:00.250+03:30` (also `+0330` and `+03`, which Python's `%z` and others write), the whole text
/// and nothing more.
///
/// Not Foundation's `ISO8601DateFormatter`, which reads times no one wrote: it rolls `2023-02-30` over to 2 March
/// and `24:00` to the next day, ignores what follows the time (`…Zjunk`), reads the offset `+99:00` as +09:00 and
/// `+03:99` as +03:00, and takes one-digit months and hours. Here every field must be in range, the day one its
/// month has (the proleptic Gregorian calendar, as ISO 8601 counts), and the offset within ±14:00 (the widest in
/// use, Kiribati's); the instant is counted from those numbers, so nothing can roll over.
public enum ISO8601Time {
    /// Why a text is not such a time.
    public enum Problem: Error, Sendable, Equatable, CustomStringConvertible {
        /// Not `YYYY-MM-DDTHH:MM:SS[.fraction]` and a zone (`Z`, `±HH:MM`, `±HHMM`, `±HH`), or more text after it.
        case notISO8601
        /// Shaped like one, with a field no time has: the reason names it (`2023-02 has no day 30`).
        case outOfRange(String)

        public var description: String {
            switch self {
            case .notISO8601: "not an ISO 8601 time with an offset, like 2026-11-24T09:00:00+03:30"
            case .outOfRange(let reason): reason
            }
        }
    }

    /// The instant `text` names, or why it names none.
    public static func parse(_ text: String) -> Result<Date, Problem> {
        let bytes = Array(text.utf8)
        var cursor = 0
        /// The next `count` ASCII digits as a number, or nil (and the cursor unmoved) when they are not all digits.
        func digits(_ count: Int) -> Int? {
            guard cursor + count <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[cursor..<cursor + count] {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            cursor += count
            return value
        }
        /// Whether the next byte is `ascii`, consumed when it is.
        func skip(_ ascii: Unicode.Scalar) -> Bool {
            guard cursor < bytes.count, bytes[cursor] == UInt8(ascii: ascii) else { return false }
            cursor += 1
            return true
        }
        guard let year = digits(4), skip("-"), let month = digits(2), skip("-"), let day = digits(2), skip("T"),
            let hour = digits(2), skip(":"), let minute = digits(2), skip(":"), let second = digits(2)
        else { return .failure(.notISO8601) }
        var fraction = 0.0
        if skip(".") {
            let start = cursor
            while cursor < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[cursor]) { cursor += 1 }
            guard cursor > start, let value = Double("0." + String(decoding: bytes[start..<cursor], as: UTF8.self)) else {
                return .failure(.notISO8601)
            }
            fraction = value
        }
        var offset = 0
        if !skip("Z") {
            let sign: Int
            if skip("+") { sign = 1 } else if skip("-") { sign = -1 } else { return .failure(.notISO8601) }
            let start = cursor - 1
            guard let hours = digits(2) else { return .failure(.notISO8601) }
            var minutes = 0
            if cursor < bytes.count {
                _ = skip(":")
                guard let value = digits(2) else { return .failure(.notISO8601) }
                minutes = value
            }
            guard minutes < 60, hours * 60 + minutes <= 14 * 60 else {
                let written = String(decoding: bytes[start..<cursor], as: UTF8.self)
                return .failure(.outOfRange("the offset \(written) is not one between -14:00 and +14:00"))
            }
            offset = sign * (hours * 3600 + minutes * 60)
        }
        guard cursor == bytes.count else { return .failure(.notISO8601) }
        guard (1...12).contains(month) else { return .failure(.outOfRange("there is no month \(month)")) }
        guard (1...days(inMonth: month, of: year)).contains(day) else {
            return .failure(.outOfRange("\(String(format: "%04d-%02d", year, month)) has no day \(day)"))
        }
        guard hour < 24, minute < 60, second < 60 else {
            return .failure(.outOfRange("\(String(format: "%02d:%02d:%02d", hour, minute, second)) is not a time of day (00:00:00 to 23:59:59)"))
        }
        let local = daysSinceEpoch(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second
        return .success(Date(timeIntervalSince1970: Double(local - offset) + fraction))
    }

    /// Days in `month` (1-12) of `year`: February has 29 in a leap year (every fourth, but not centuries other than
    /// every fourth one).
    static func days(inMonth month: Int, of year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days from 1970-01-01 to `year-month-day` (negative before), proleptic Gregorian (Howard Hinnant's
    /// `days_from_civil`: years counted from March, so the leap day ends the year, in 400-year eras).
    static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
