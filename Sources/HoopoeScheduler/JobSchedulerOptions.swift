import Foundation

/// How a ``JobScheduler`` behaves.
public struct JobSchedulerOptions: Sendable, Hashable {
    /// How late a tick may be found and still count as on time; older due ticks are missed (see ``TickPlanner``).
    public var gracePeriod: TimeInterval
    /// How soon a task whose handling failed is tried again.
    public var retryDelay: TimeInterval
    /// The longest single sleep: the loop re-checks at least this often, so a wall-clock jump (NTP, a
    /// suspended VM) delays a tick by at most this much.
    public var maxSleep: TimeInterval

    /// - Parameters:
    ///   - gracePeriod: how late a tick may be and still be on time (60 s).
    ///   - retryDelay: delay before retrying a failed task (5 s).
    ///   - maxSleep: the longest single sleep (60 s).
    public init(gracePeriod: TimeInterval = TickPlanner.defaultGracePeriod, retryDelay: TimeInterval = 5, maxSleep: TimeInterval = 60) {
        self.gracePeriod = gracePeriod
        self.retryDelay = retryDelay
        self.maxSleep = maxSleep
    }
}
