import Foundation

/// Where the scheduler sends a due tick: the queue engine's enqueue, deduplicated per task and tick.
///
/// Contract: enqueueing the same `(task, tick)` twice must produce one job, however many schedulers call
/// at once — the scheduler relies on this, not on a leader, for "exactly once". The engine's sink does it
/// with a per-task-and-tick key, `hoopoe:{<queue>}:once:schedule:<task>:<tickUnixSeconds>`, set with
/// `SET NX EX` inside the enqueue script, and adds `tick` (Unix seconds) to the payload so the job knows
/// which tick it stands for.
public protocol ScheduledJobSink: Sendable {
    /// Enqueues the job for one tick of a task.
    /// - Parameters:
    ///   - task: the task (type, queue and payload of the job).
    ///   - tick: the tick's time, whole seconds; the job carries it.
    /// - Returns: true if this call enqueued the job, false if that tick was already enqueued (by another
    ///   scheduler, or by this one before a restart).
    func enqueueTick(task: ScheduledTask, tick: Date) async throws -> Bool
}
