import Foundation

/// What one scheduler does for one task at one wake-up: the ticks to enqueue and the new last tick.
public struct TickPlan: Sendable, Hashable {
    /// Ticks to enqueue, oldest first. Each becomes one job carrying that tick's time.
    public let ticks: [Date]
    /// The value to store as the task's last handled tick once ``ticks`` are enqueued; nil leaves it as is.
    /// Every tick at or before it counts as handled, whether it was enqueued or passed over by the
    /// catch-up policy.
    public let lastTick: Date?
    /// The latest missed tick (due for longer than the grace period), if any tick was missed.
    public let latestMissedTick: Date?
    /// A stored last tick later than now by more than the grace period, planned as never run (``TickPlanner``).
    public let discardedLastTick: Date?

    /// - Parameters:
    ///   - ticks: ticks to enqueue, oldest first.
    ///   - lastTick: the new last handled tick, or nil for no change.
    ///   - latestMissedTick: the latest missed tick, if any.
    ///   - discardedLastTick: a stored last tick too far ahead to be believed, if it was passed over.
    public init(ticks: [Date], lastTick: Date?, latestMissedTick: Date?, discardedLastTick: Date? = nil) {
        self.ticks = ticks
        self.lastTick = lastTick
        self.latestMissedTick = latestMissedTick
        self.discardedLastTick = discardedLastTick
    }

    /// True when some due ticks were missed and the task's ``CatchUpPolicy`` decided about them.
    public var missedTicks: Bool { latestMissedTick != nil }
}
