/// One field of a cron expression: its name in error messages, the values it allows and the names it accepts.
public enum CronField: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Seconds, 0–59; only in 6-field expressions (a 5-field expression runs at second 0).
    case second
    /// Minutes, 0–59.
    case minute
    /// Hours, 0–23.
    case hour
    /// Day of the month, 1–31.
    case dayOfMonth = "day of month"
    /// Month, 1–12 or JAN–DEC.
    case month
    /// Day of the week, 0–7 or SUN–SAT; 0 and 7 are both Sunday.
    case dayOfWeek = "day of week"

    public var description: String { rawValue }

    /// The smallest value allowed.
    var lowerBound: Int {
        switch self {
        case .second, .minute, .hour, .dayOfWeek: 0
        case .dayOfMonth, .month: 1
        }
    }

    /// The largest value allowed (7 for the day of the week: Sunday again, as in Vixie cron).
    var upperBound: Int {
        switch self {
        case .second, .minute: 59
        case .hour: 23
        case .dayOfMonth: 31
        case .month: 12
        case .dayOfWeek: 7
        }
    }

    /// The largest value `*` stands for: 6 for the day of the week, so `*/2` means SUN,TUE,THU,SAT.
    var starUpperBound: Int { self == .dayOfWeek ? 6 : upperBound }

    /// Names accepted instead of numbers, upper-cased, with their values.
    var names: [String: Int] {
        switch self {
        case .month:
            ["JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6, "JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12]
        case .dayOfWeek:
            ["SUN": 0, "MON": 1, "TUE": 2, "WED": 3, "THU": 4, "FRI": 5, "SAT": 6]
        default:
            [:]
        }
    }
}
