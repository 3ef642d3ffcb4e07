import Foundation

/// The scheduler's time source, injected so tests can run hours of schedule in milliseconds.
///
/// Contract: ``now()`` never goes backwards for one scheduler by more than clock adjustments do, and
/// ``sleep(until:)`` returns at or after the deadline, or throws `CancellationError` when the task is
/// cancelled (which stops ``JobScheduler/run()``).
public protocol SchedulerClock: Sendable {
    /// The current wall-clock time.
    func now() -> Date
    /// Suspends until `deadline`; returns at once if it has passed.
    func sleep(until deadline: Date) async throws
    /// Called at every wake-up before ``now()``: a clock that follows another (``RedisSchedulerClock``) reads it here.
    /// - Throws: when ``now()`` cannot be trusted yet (the clock followed has never been read): nothing is planned.
    func synchronize() async throws
}

extension SchedulerClock {
    public func synchronize() async throws {}
}

/// The system's wall clock.
public struct SystemSchedulerClock: SchedulerClock {
    public init() {}

    public func now() -> Date { Date() }

    public func sleep(until deadline: Date) async throws {
        let seconds = deadline.timeIntervalSinceNow
        guard seconds > 0 else { return }
        try await Task.sleep(for: .seconds(seconds))
    }
}
