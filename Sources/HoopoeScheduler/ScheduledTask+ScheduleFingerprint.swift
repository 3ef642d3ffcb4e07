import Foundation

extension ScheduledTask {
    /// A short mark of when the task is due, its cron expression's values and its time zone, stored with its last tick
    /// (``RedisLastTickStore``): a last tick stored under another mark was handled under another schedule, and planned
    /// from under this one it would count the ticks since as missed and run the task at once (a daily `0 9` changed to
    /// `0 10` and deployed at 10:30 ran twice that day). The scheduler starts such a task from now instead, as a task new
    /// to the file (decision 0008, amended in session 60).
    ///
    /// Made from the parsed values, not the text, so an expression only rewritten (`@daily` for `0 0 * * *`, other
    /// spacing, `MON` for `1`) keeps its mark; a task's payload, type, queue and catch-up policy are not in it. 16 hex
    /// digits of FNV-1a (64 bits): the same in every process and release, which Swift's `Hasher` is not.
    public var scheduleFingerprint: String {
        let text = [cron.seconds, cron.minutes, cron.hours, cron.daysOfMonth, cron.months, cron.daysOfWeek].map { String($0, radix: 16) }
            + [cron.dayOfMonthIsStar ? "*" : "-", cron.dayOfWeekIsStar ? "*" : "-", timeZone.identifier]
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.joined(separator: " ").utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        let digits = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
