import Foundation

extension CronExpression {
    /// How far ahead ``next(after:in:)`` looks: one whole Gregorian cycle (400 years, 146,097 days), after which dates
    /// and their weekdays repeat, so an expression that matches at all matches within it (parsing refuses those that
    /// never can). Ten years, as it was, lost tasks whose day of the month and day of the week must agree
    /// (`0 0 */31 2 MON`: the 1st of February on a Monday, 2027 then 2038; `0 0 29 2 */7`): after one run the next
    /// was nil, the task never ran again, and nothing reported it late. The search jumps over whole months and days,
    /// so the horizon costs nothing to an expression that matches soon.
    static let searchHorizon: Int64 = 146_097 * 86_400

    /// The first time after `date` at which the expression matches in `timeZone`, to the second.
    ///
    /// The search jumps field by field over wall-clock readings (a non-matching month costs one step, a
    /// non-matching day one step), so even a yearly expression takes a few dozen steps, never one per
    /// second or minute.
    ///
    /// Daylight saving time is handled like Vixie cron does:
    /// - **Clocks jump forward** (Europe/Berlin, last Sunday of March, 02:00 → 03:00): readings inside the
    ///   skipped hour do not exist. If any of them matches, the task runs once at the instant of the jump
    ///   (03:00 local), so a daily 02:30 task still runs that day, and an every-minute task runs at 01:59
    ///   then 03:00, 03:01, … without a burst.
    /// - **Clocks fall back** (last Sunday of October, 03:00 → 02:00): readings 02:00–02:59 happen twice.
    ///   A task whose hour field allows every hour (`*/5 * * * *`, `@hourly`) runs in both passes, because it
    ///   is meant to run every real hour; any other task (a daily 02:30) runs only in the first pass, once.
    ///
    /// - Parameters:
    ///   - date: the search starts strictly after this instant.
    ///   - timeZone: the zone whose wall clock the fields describe.
    /// - Returns: the next matching instant, or nil if there is none within 400 years (or `date` is not between the
    ///   years 1 and 9999: the search's arithmetic is in whole seconds).
    public func next(after date: Date, in timeZone: TimeZone) -> Date? {
        guard (-62_135_596_800...253_402_300_799).contains(date.timeIntervalSince1970) else { return nil }
        let zone = ZoneOffsets(timeZone)
        var instant = Int64(date.timeIntervalSince1970.rounded(.down)) + 1
        let horizon = instant + Self.searchHorizon
        var from = instant + zone.offset(at: instant)
        if !runsEveryHour, let repeatedEnd = zone.endOfRepeatedReadings(containing: instant) {
            from = max(from, repeatedEnd)  // we are in the second pass of a repeated hour: skip its readings
        }
        // The search starts at a forward jump's own instant (asked in the second before it): the loop below looks at
        // the transitions after `instant`, so this one's skipped readings are checked here.
        if zone.nextTransition(after: instant - 1) == instant {
            let before = zone.offset(at: instant - 1)
            if zone.offset(at: instant) > before, firstMatch(from: instant + before, before: instant + zone.offset(at: instant)) != nil {
                return Date(timeIntervalSince1970: TimeInterval(instant))
            }
        }
        while instant < horizon {
            let offset = zone.offset(at: instant)
            let transition = zone.nextTransition(after: instant)
            let segmentEnd = min(transition ?? horizon, horizon)
            if let reading = firstMatch(from: from, before: segmentEnd + offset) {
                return Date(timeIntervalSince1970: TimeInterval(reading - offset))
            }
            guard let transition, transition < horizon else { return nil }
            let newOffset = zone.offset(at: transition)
            if newOffset > offset {
                // Forward: readings [transition + offset, transition + newOffset) never happen.
                if firstMatch(from: transition + offset, before: transition + newOffset) != nil {
                    return Date(timeIntervalSince1970: TimeInterval(transition))
                }
                from = transition + newOffset
            } else {
                // Back: readings [transition + newOffset, transition + offset) happen a second time.
                from = runsEveryHour ? transition + newOffset : transition + offset
            }
            instant = transition
        }
        return nil
    }

    /// The first matching wall-clock reading in `from..<end`, jumping over whole months, days, hours and
    /// minutes that cannot match.
    func firstMatch(from: Int64, before end: Int64) -> Int64? {
        var time = CivilTime(reading: from)
        while time.reading < end {
            guard months & (1 << UInt64(time.month)) != 0 else {
                time.moveToNextMonth()
                continue
            }
            guard matchesDay(time.day, weekday: time.weekday) else {
                time.moveToNextDay()
                continue
            }
            guard let hour = Self.first(in: hours, atLeast: time.hour) else {
                time.moveToNextDay()
                continue
            }
            if hour != time.hour {
                (time.hour, time.minute, time.second) = (hour, 0, 0)
            }
            guard let minute = Self.first(in: minutes, atLeast: time.minute) else {
                if time.hour == 23 { time.moveToNextDay() } else { (time.hour, time.minute, time.second) = (time.hour + 1, 0, 0) }
                continue
            }
            if minute != time.minute {
                (time.minute, time.second) = (minute, 0)
            }
            guard let second = Self.first(in: seconds, atLeast: time.second) else {
                if time.minute < 59 {
                    (time.minute, time.second) = (time.minute + 1, 0)
                } else if time.hour < 23 {
                    (time.hour, time.minute, time.second) = (time.hour + 1, 0, 0)
                } else {
                    time.moveToNextDay()
                }
                continue
            }
            time.second = second
            return time.reading < end ? time.reading : nil
        }
        return nil
    }

    /// The smallest set bit at or above `value`, if any.
    private static func first(in bits: UInt64, atLeast value: Int) -> Int? {
        let remaining = bits >> UInt64(value)
        return remaining == 0 ? nil : value + remaining.trailingZeroBitCount
    }
}

/// A time zone's UTC offsets and transitions, in whole seconds.
private struct ZoneOffsets {
    let timeZone: TimeZone

    init(_ timeZone: TimeZone) { self.timeZone = timeZone }

    /// Seconds to add to an instant to get its wall-clock reading.
    func offset(at instant: Int64) -> Int64 {
        Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(instant))))
    }

    /// The first instant after `instant` at which the offset changes. Foundation reports "daylight saving"
    /// transitions; the ones that leave the offset unchanged (a rename of the zone's abbreviation) are passed over.
    func nextTransition(after instant: Int64) -> Int64? {
        var cursor = instant
        for _ in 0..<8 {
            guard let date = timeZone.nextDaylightSavingTimeTransition(after: Date(timeIntervalSince1970: TimeInterval(cursor))) else {
                return nil
            }
            let transition = Int64(date.timeIntervalSince1970.rounded(.up))
            guard transition > cursor else { return nil }
            if offset(at: transition) != offset(at: transition - 1) { return transition }
            cursor = transition
        }
        return nil
    }

    /// When `instant` lies in the second pass of wall-clock readings that the clocks repeat (after falling
    /// back), the reading at which the first pass ended; otherwise nil.
    func endOfRepeatedReadings(containing instant: Int64) -> Int64? {
        guard let transition = nextTransition(after: instant - 86_400), transition <= instant else { return nil }
        let before = offset(at: transition - 1)
        let after = offset(at: transition)
        guard after < before, instant + after < transition + before else { return nil }
        return transition + before
    }
}
