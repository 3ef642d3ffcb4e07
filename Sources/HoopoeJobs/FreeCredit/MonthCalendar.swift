import Foundation

/// Which calendar a monthly cap counts in (free credit, the gift wheel). Users in Iran live by the Persian
/// calendar, so "a month" is Farvardin, Ordibehesht, … by default; `gregorian` is there for services that count
/// the other way. Both are counted in the users' zone (``LocalCalendar``, Asia/Tehran).
public enum MonthCalendar: String, Sendable, CaseIterable {
    case persian
    case gregorian

    /// The month `date` falls in.
    public func month(of date: Date, in calendar: LocalCalendar) -> CalendarMonth {
        switch self {
        case .persian:
            let start = calendar.persian.date(from: calendar.persian.dateComponents([.year, .month], from: date)) ?? date
            return CalendarMonth(label: calendar.persianMonth(date), start: start, end: calendar.startOfNextPersianMonth(date))
        case .gregorian:
            let start = calendar.gregorian.date(from: calendar.gregorian.dateComponents([.year, .month], from: date)) ?? date
            return CalendarMonth(label: calendar.gregorianMonth(date), start: start, end: calendar.startOfNextGregorianMonth(date))
        }
    }

    /// Reads `persian` or `gregorian` from `key`.
    static func read(_ key: String, from env: EnvironmentReader) throws(ConfigurationError) -> MonthCalendar {
        try env.parsed(key, default: .persian) { (text: String) throws(ConfigurationProblem) in
            guard let value = MonthCalendar(rawValue: text.lowercased()) else {
                throw ConfigurationProblem("expected persian or gregorian, got \(text)")
            }
            return value
        }
    }
}

/// One calendar month in the users' zone.
public struct CalendarMonth: Sendable, Equatable {
    /// `1403-09` (Persian) or `2024-11` (Gregorian): part of the keys that count per month, so a new month starts
    /// from zero without anything being reset.
    public let label: String
    /// Its first instant.
    public let start: Date
    /// The first instant of the next month: when a monthly cap lifts.
    public let end: Date
}
