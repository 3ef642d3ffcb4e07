/// Wall-clock ("civil") date arithmetic on plain integers, in the proleptic Gregorian calendar.
///
/// Cron matching runs on local wall-clock readings, counted as seconds since 1970-01-01 00:00 *as if* the
/// zone were UTC. Doing this with integers instead of `Calendar` keeps the search fast (no allocation, no
/// ICU per step) and leaves every time-zone decision to one place, ``CronExpression/next(after:in:)``.
/// The day algorithms are Howard Hinnant's `days_from_civil` / `civil_from_days`.
struct CivilTime: Hashable {
    var year: Int
    var month: Int
    var day: Int
    var hour: Int
    var minute: Int
    var second: Int

    /// Splits a reading (local seconds since the epoch) into fields.
    init(reading: Int64) {
        let days = Self.floorDivide(reading, 86_400)
        let secondOfDay = Int(reading - days * 86_400)
        (year, month, day) = Self.civil(fromDays: days)
        hour = secondOfDay / 3600
        minute = secondOfDay / 60 % 60
        second = secondOfDay % 60
    }

    /// The reading (local seconds since the epoch) of these fields.
    var reading: Int64 {
        Self.days(year: year, month: month, day: day) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
    }

    /// 0 for Sunday through 6 for Saturday.
    var weekday: Int {
        let days = Self.days(year: year, month: month, day: day)
        return Int(days + 4 - Self.floorDivide(days + 4, 7) * 7)  // 1970-01-01 was a Thursday
    }

    /// Midnight at the start of the next day.
    mutating func moveToNextDay() {
        self = CivilTime(reading: (Self.days(year: year, month: month, day: day) + 1) * 86_400)
    }

    /// Midnight on the first day of the next month.
    mutating func moveToNextMonth() {
        if month == 12 {
            self = CivilTime(year: year + 1, month: 1, day: 1, hour: 0, minute: 0, second: 0)
        } else {
            self = CivilTime(year: year, month: month + 1, day: 1, hour: 0, minute: 0, second: 0)
        }
    }

    init(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) {
        (self.year, self.month, self.day, self.hour, self.minute, self.second) = (year, month, day, hour, minute, second)
    }

    /// Division rounding towards negative infinity (readings before 1970 are negative).
    static func floorDivide(_ value: Int64, _ divisor: Int64) -> Int64 {
        let quotient = value / divisor
        return value % divisor != 0 && value < 0 ? quotient - 1 : quotient
    }

    static func isLeapYear(_ year: Int) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    static func daysInMonth(_ month: Int, year: Int) -> Int {
        switch month {
        case 2: isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 of a civil date.
    static func days(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let m = Int64(month)
        let dayOfYear = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The civil date of a count of days since 1970-01-01.
    static func civil(fromDays days: Int64) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (Int(year), Int(month), Int(day))
    }
}
