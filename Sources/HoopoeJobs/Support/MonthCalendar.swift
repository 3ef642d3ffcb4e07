import Foundation

/// Which calendar a monthly cap counts in (free credit, the gift wheel). Users in Iran live by the Persian
/// calendar, so "a month" is Farvardin, Ordibehesht, … by default; `gregorian` is there for services that count
/// the other way. Both are counted in the users' zone (``LocalCalendar``, Asia/Tehran).
public enum MonthCalendar: String, Sendable, CaseIterable {
    case persian
    case gregorian

    /// The month `date` falls in: its label, first instant and the first instant of the next month.
    public func month(of date: Date, in calendar: LocalCalendar) -> CalendarMonth {
        let system = self == .persian ? calendar.persian : calendar.gregorian
        let parts = system.dateComponents([.year, .month], from: date)
        let start = system.date(from: parts) ?? date
        let end = system.date(byAdding: .month, value: 1, to: start) ?? date.addingTimeInterval(31 * 86_400)
        return CalendarMonth(label: String(format: "%04d-%02d", parts.year ?? 0, parts.month ?? 0), start: start, end: end)
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
