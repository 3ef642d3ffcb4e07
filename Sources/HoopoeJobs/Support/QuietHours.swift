import Foundation

/// The hours no SMS goes out (default 22:00–08:00 Asia/Tehran). A message due in them is deferred to their end,
/// never dropped.
public struct QuietHours: Sendable, Equatable {
    /// Local hour quiet hours begin (inclusive).
    public var startHour: Int
    /// Local hour they end (exclusive). Equal to ``startHour`` means no quiet hours.
    public var endHour: Int

    /// 22:00–08:00.
    public static let `default` = QuietHours(startHour: 22, endHour: 8)

    public init(startHour: Int, endHour: Int) {
        self.startHour = startHour
        self.endHour = endHour
    }

    /// Parses `22-8` / `22-08` / `22:00-08:00` (whole hours only); `off` or `none` disables quiet hours.
    ///
    /// Equal hours (`22-22`) are refused: they read as no quiet hours at all, and a typo of `22-02` turned them off
    /// with no word; only `off` says that. (All day quiet is no setting either: no SMS would ever go out.)
    /// - Throws: a message saying what is wrong, for ``ConfigurationError``.
    public init(parsing text: String) throws(ConfigurationProblem) {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        if trimmed == "off" || trimmed == "none" {
            self.init(startHour: 0, endHour: 0)
            return
        }
        // `22`, `22:00`; not `22:30` (its minutes were dropped: quiet hours began half an hour early) nor `22-08-`.
        func hour(_ part: Substring) -> Int? {
            let pieces = part.trimmingCharacters(in: .whitespaces).split(separator: ":", omittingEmptySubsequences: false)
            guard pieces.count == 1 || (pieces.count == 2 && pieces[1] == "00"), pieces[0].allSatisfy(\.isASCII) else { return nil }
            return Int(pieces[0])
        }
        let parts = trimmed.split(separator: "-", omittingEmptySubsequences: false).map(hour)
        guard parts.count == 2, let start = parts[0], let end = parts[1], (0...23).contains(start), (0...23).contains(end) else {
            throw ConfigurationProblem("expected START-END in whole local hours, e.g. 22-08 or 22:00-08:00, or off; got \(text)")
        }
        guard start != end else {
            throw ConfigurationProblem("\(text) starts and ends at the same hour, which leaves no quiet hours: give START-END of different hours, e.g. 22-08, or off for none")
        }
        self.init(startHour: start, endHour: end)
    }

    /// True when `date` is inside quiet hours in `calendar`'s zone.
    public func contains(_ date: Date, in calendar: LocalCalendar) -> Bool {
        guard startHour != endHour else { return false }
        let hour = calendar.hourAndMinute(of: date).hour
        return startHour < endHour ? (startHour..<endHour).contains(hour) : (hour >= startHour || hour < endHour)
    }

    /// `date` itself when it is outside quiet hours, else the moment they end: ``endHour`` on the wall clock, that
    /// day or the next (``LocalCalendar/at(hour:minute:on:)``, so 08:00 is 08:00 on a day the clocks change too).
    public func nextAllowed(after date: Date, in calendar: LocalCalendar) -> Date {
        guard contains(date, in: calendar) else { return date }
        let end = calendar.at(hour: endHour, on: date)
        return end > date ? end : calendar.at(hour: endHour, on: calendar.adding(days: 1, to: date))
    }

    /// How close before quiet hours a reminder counts as caught by them: 15 minutes. A send that close is one failed
    /// attempt or a short backlog away from running inside them (`sms.send`'s first retries wait 30 s, 1, 2 and 4
    /// minutes), and then it waits for their end — past its `not_after` when quiet hours outlast the day its text
    /// was written for (the expiration reminder's "N days left", released at 21:59, ended `outdated` at 22:00).
    public static let margin: TimeInterval = 15 * 60

    /// The end of the quiet hours a send at `date` may be caught by: those `date` is in, or those beginning less than
    /// ``margin`` after it; nil when neither (or quiet hours are off).
    public func endIfCaught(at date: Date, in calendar: LocalCalendar) -> Date? {
        if contains(date, in: calendar) { return nextAllowed(after: date, in: calendar) }
        // Quiet hours last a whole hour at least, longer than the margin: begun within it, they hold its end.
        let soon = date.addingTimeInterval(Self.margin)
        return contains(soon, in: calendar) ? nextAllowed(after: soon, in: calendar) : nil
    }

    /// When the quiet hours ending at `end` (a time ``nextAllowed(after:in:)`` gave) began: ``startHour`` on the wall
    /// clock, that day or the day before (22:00 the evening before an 08:00 end; 13:00 the same day for `13-15`).
    public func start(ofQuietHoursEndingAt end: Date, in calendar: LocalCalendar) -> Date {
        let start = calendar.at(hour: startHour, on: end)
        return start < end ? start : calendar.at(hour: startHour, on: calendar.adding(days: -1, to: end))
    }
}
