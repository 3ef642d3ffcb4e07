import Foundation

/// Where the scheduler sends a due tick: the queue engine's enqueue, deduplicated per task and tick.
///
/// Contract: enqueueing the same `(task, tick)` twice must produce one job, however many schedulers call
/// at once, and whatever queue each one's file names for the task — the scheduler relies on this, not on a leader,
/// for "exactly once". The engine's sink (``JobQueueTickSink``) claims the tick for a queue first (the first claim
/// wins), then enqueues it there with a per-task-and-tick once-key, `hoopoe:{<queue>}:once:schedule:<task>:<tick>`,
/// set with `SET NX EX` inside the enqueue script, and adds `tick` (Unix seconds) to the payload so the job knows
/// which tick it stands for.
public protocol ScheduledJobSink: Sendable {
    /// Enqueues the job for one tick of a task.
    /// - Parameters:
    ///   - task: the task (type, queue and payload of the job).
    ///   - tick: the tick's time, whole seconds; the job carries it.
    /// - Returns: whether this call added the job (not when that tick was already enqueued, by another
    ///   scheduler or by this one before a restart), and the queue the tick's job is in.
    func enqueueTick(task: ScheduledTask, tick: Date) async throws -> TickEnqueue
}

/// What ``ScheduledJobSink/enqueueTick(task:tick:)`` did with a tick.
public struct TickEnqueue: Sendable, Equatable {
    /// True if this call enqueued the job; false if the tick was enqueued already.
    public var added: Bool
    /// The queue the tick's job is in: the task's, unless a scheduler whose file names another queue for the task
    /// claimed the tick first (a rolling restart that moves the task).
    public var queue: String
    /// A Redis key that exists while the tick's job is known in `queue` (the engine's sink: the tick's once-key), nil
    /// when the sink keeps none. The scheduler advances the task's last tick past this tick only while it exists
    /// (``LastTickStore/advanceLastTick(of:to:whileExists:)``): gone, the enqueue's write was lost.
    public var proof: String?

    public init(added: Bool, queue: String, proof: String? = nil) {
        self.added = added
        self.queue = queue
        self.proof = proof
    }
}
