import Foundation

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

    /// - Parameters:
    ///   - lastTick: the last handled tick, nil if none.
    ///   - scheduleChanged: whether it was handled under another schedule (default false).
    ///   - movedFrom: the queue it was read from, when not the task's (default nil).
    public init(lastTick: Date?, scheduleChanged: Bool = false, movedFrom: String? = nil) {
        self.lastTick = lastTick
        self.scheduleChanged = scheduleChanged
        self.movedFrom = movedFrom
    }
}
