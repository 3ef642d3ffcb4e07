import Foundation

/// `expires_at` as callers send it, resolved to an instant with the users' calendar.
///
/// Accepted forms (jobs/types/subscription.upsert.md):
/// - a JSON number or a string of digits: Unix seconds (values over 10^11 are refused as probably milliseconds);
/// - ISO 8601 with a zone: `2024-12-15T20:30:00Z`, `2024-12-15T20:30:00+03:30` (fractional seconds allowed), read
///   strictly (``ISO8601Time``: a day the month lacks, an offset past ±14:00 or trailing text is refused);
/// - a local date, optionally with a time, in the users' zone (Asia/Tehran): `2024-12-15`, `2024-12-15 09:30`;
///   a year below 1700 is a Solar Hijri (Jalali) date, as Kingfisher's profile shows them: `1398-10-25`,
///   `1398/10/25`, `1398-09-15 03:30`, also with Persian or Arabic-Indic digits (`۱۳۹۸-۱۰-۲۵`).
/// A date without a time means the **end** of that local day (23:59:59): a plan that "expires on 1403-09-25" is
/// usable through that day, so its day-of reminder (the 09:00 sweep) still comes before the expiry, not 9 hours
/// after it (decision record 0013).
public enum ExpiryDate: Codable, Sendable, Equatable {
    case seconds(Double)
    case text(String)

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Double.self) {
            self = .seconds(number)
        } else {
            self = .text(try container.decode(String.self))
        }
    }

    /// As it came: the number or the text.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .seconds(let value): try container.encode(value)
        case .text(let text): try container.encode(text)
        }
    }

    /// The instant, or a message saying why the value cannot be used.
    public func resolve(in calendar: LocalCalendar) -> Result<Date, ExpiryDateError> {
        let result: Result<Date, ExpiryDateError>
        switch self {
        case .seconds(let value): result = Self.unix(value, original: String(value))
        case .text(let raw): result = Self.parse(raw, in: calendar)
        }
        // ISO 8601 takes any year: keep every form inside the range the day arithmetic and Redis TTLs are made for.
        if case .success(let date) = result, !(0..<Self.latest).contains(date.timeIntervalSince1970) {
            return .failure(ExpiryDateError("expires_at is outside 1970-2199"))
        }
        return result
    }

    /// 2200-01-01T00:00:00Z: no expiry is accepted at or after it.
    static let latest: Double = 7_258_118_400

    static func unix(_ value: Double, original: String) -> Result<Date, ExpiryDateError> {
        guard value.isFinite, value > 0 else { return .failure(ExpiryDateError("expires_at \(original) is not a positive Unix time")) }
        guard value < 1e11 else { return .failure(ExpiryDateError("expires_at \(original) is too large for Unix seconds (milliseconds?)")) }
        return .success(Date(timeIntervalSince1970: value.rounded(.down)))
    }

    static func parse(_ raw: String, in calendar: LocalCalendar) -> Result<Date, ExpiryDateError> {
        let text = LatinDigits.latin(raw.trimmingCharacters(in: .whitespacesAndNewlines))  // a text line's `\n` too, as before
        if !text.isEmpty, text.allSatisfy(\.isNumber), let value = Double(text) { return unix(value, original: raw) }
        if let local = localDate(text, in: calendar) { return local }
        // Strictly (``ISO8601Time``): Foundation's parser rolled 2023-02-30 over to 2 March and ignored trailing text.
        switch ISO8601Time.parse(text) {
        case .success(let date): return .success(date)
        case .failure(.outOfRange(let reason)): return .failure(ExpiryDateError("expires_at \(raw): \(reason)"))
        case .failure(.notISO8601):
            return .failure(ExpiryDateError(
                "expires_at \(raw) is not Unix seconds, ISO 8601 with a zone, or a local date like 2024-12-15 or 1398-10-25"))
        }
    }

    /// `YYYY-MM-DD[ HH:MM[:SS]]` (or `/` separators, or `T` before the time) in the local zone; Jalali below 1700.
    static func localDate(_ text: String, in calendar: LocalCalendar) -> Result<Date, ExpiryDateError>? {
        let halves = text.split(whereSeparator: { $0 == " " || $0 == "T" }).map(String.init)
        guard halves.count == 1 || halves.count == 2 else { return nil }
        let date = halves[0].split(whereSeparator: { $0 == "-" || $0 == "/" }).map { Int($0) }
        guard date.count == 3, let year = date[0], let month = date[1], let day = date[2], halves[0].count >= 8 else { return nil }
        var hour = 0, minute = 0, second = 0
        if halves.count == 2 {
            let time = halves[1].split(separator: ":").map { Int($0) }
            guard (2...3).contains(time.count), let h = time[0], let m = time[1] else { return nil }
            hour = h
            minute = m
            if time.count == 3 {
                guard let s = time[2] else { return nil }  // `00Z`, `00.5+03:30`: ISO 8601, parsed below
                second = s
            }
        }
        let jalali = year < 1700
        let cal = jalali ? calendar.persian : calendar.gregorian
        let plausible = jalali ? (1300...1600).contains(year) : (1970...2200).contains(year)
        guard plausible, (1...12).contains(month), (1...31).contains(day), (0...23).contains(hour), (0...59).contains(minute),
            (0...59).contains(second)
        else { return .failure(ExpiryDateError("expires_at \(text) is not a valid \(jalali ? "Jalali" : "Gregorian") date and time")) }
        let parts = DateComponents(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        guard let start = cal.date(from: parts) else { return .failure(ExpiryDateError("expires_at \(text) is not a valid date")) }
        let instant = halves.count == 1 ? endOfDay(start, in: cal) : start
        // Reject days the month does not have (1398-12-31, 2023-02-30): the calendar rolls them over.
        let back = cal.dateComponents([.year, .month, .day], from: instant)
        guard back.year == year, back.month == month, back.day == day else {
            return .failure(ExpiryDateError("expires_at \(text): that month has no day \(day)"))
        }
        return .success(instant)
    }

    /// The last second of the local day that starts at `start` (a day is not always 24 h where clocks change).
    static func endOfDay(_ start: Date, in calendar: Calendar) -> Date {
        (calendar.date(byAdding: .day, value: 1, to: start) ?? start.addingTimeInterval(86_400)).addingTimeInterval(-1)
    }
}

/// Why an `expires_at` cannot be used.
public struct ExpiryDateError: Error, Sendable, CustomStringConvertible {
    public let message: String
    init(_ message: String) { self.message = message }
    public var description: String { message }
}
