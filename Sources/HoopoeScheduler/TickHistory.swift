import Foundation
import HoopoeCore

/// A task's stored history as a scheduler plans from it (``LastTickStore/history(of:)``).
public struct TickHistory: Sendable, Hashable {
    /// The last handled tick; nil when the task has never run (or its stored value is unreadable).
    public var lastTick: Date?
    /// True when ``lastTick`` was handled under another cron expression or time zone than the task's now
    /// (``ScheduledTask/scheduleFingerprint``): the scheduler starts the task from now, as a task new to the file, rather
    /// than count the ticks of its new schedule since then as missed.
    public var scheduleChanged: Bool
    /// The queue whose key held ``lastTick`` when it is not the task's own: the task was moved from it. The first
    /// advance writes the task's key in its own queue, and sets that one to expire (``RedisLastTickStore``).
    public var movedFrom: String?
    /// The key that exists but holds no tick (not Unix seconds from 0 to the year 9999: written by hand, say), when
    /// that is why ``lastTick`` is nil: the task starts from now as one never run, and the scheduler says so in a
    /// warning naming the key, rather than as the usual "no history" of a task new to the file.
    public var unreadable: UnreadableTick?

    /// - Parameters:
    ///   - lastTick: the last handled tick, nil if none.
    ///   - scheduleChanged: whether it was handled under another schedule (default false).
    ///   - movedFrom: the queue it was read from, when not the task's (default nil).
    ///   - unreadable: the key read, when it held no tick (default nil).
    public init(lastTick: Date?, scheduleChanged: Bool = false, movedFrom: String? = nil, unreadable: UnreadableTick? = nil) {
        self.lastTick = lastTick
        self.scheduleChanged = scheduleChanged
        self.movedFrom = movedFrom
        self.unreadable = unreadable
    }
}

/// A task's last-tick key that exists but cannot be read as a tick, as a log may show it.
public struct UnreadableTick: Sendable, Hashable {
    /// The key.
    public var key: String
    /// What it holds, quoted, on one line, phone numbers and email addresses masked, cut to
    /// ``shownCharacters`` (with its length in bytes when cut): anyone with write access to Redis wrote it.
    public var content: String

    /// The most characters of the value a log shows.
    public static let shownCharacters = 40

    /// - Parameters:
    ///   - key: the key.
    ///   - value: what it holds, as Redis returned it.
    public init(key: String, value: [UInt8]) {
        self.key = key
        // Masked before it is cut, so a phone number at the cut is not left half shown and unmasked.
        let text = PrintableText.oneLine(PersonalDataMask.mask(String(decoding: value.prefix(1024), as: UTF8.self)))
        content = text.count > Self.shownCharacters
            ? "'\(text.prefix(Self.shownCharacters - 1))…' (\(value.count) bytes)" : "'\(text)'"
    }
}
