import Foundation

/// Remembers, per task, the last tick that has been handled, shared by every scheduler.
///
/// "Handled" means enqueued, or passed over on purpose by the catch-up policy: every tick at or before
/// the stored value is done. The value only ever moves forward, so a slow scheduler that planned with an
/// older value cannot move it back and make a tick due again.
public protocol LastTickStore: Sendable {
    /// The last handled tick of a task, or nil if it has never run.
    func lastTick(of task: ScheduledTask) async throws -> Date?

    /// The task's history as the scheduler plans from it: its last handled tick, whether that was handled under
    /// another schedule (cron or time zone), and the queue it was found in when the task was moved from there.
    func history(of task: ScheduledTask) async throws -> TickHistory

    /// Moves the last handled tick of a task forward to `tick`; does nothing if it is already there or later.
    /// - Parameters:
    ///   - task: the task.
    ///   - tick: the new value, whole seconds.
    func advanceLastTick(of task: ScheduledTask, to tick: Date) async throws

    /// As ``advanceLastTick(of:to:)``, only while `key` exists (``TickEnqueue/proof``: the once-key of the tick just
    /// enqueued, beside the task's last tick). False when it does not, and nothing moved: the enqueue's write was lost
    /// (a failover between the enqueue and this advance), and the tick is planned again.
    func advanceLastTick(of task: ScheduledTask, to tick: Date, whileExists key: String) async throws -> Bool
}

extension LastTickStore {
    /// A store that keeps nothing beside the tick: the tick alone, as if the schedule had never changed.
    public func history(of task: ScheduledTask) async throws -> TickHistory {
        TickHistory(lastTick: try await lastTick(of: task))
    }

    /// A store that is not where the key is cannot tell: it advances.
    public func advanceLastTick(of task: ScheduledTask, to tick: Date, whileExists key: String) async throws -> Bool {
        try await advanceLastTick(of: task, to: tick)
        return true
    }
}
