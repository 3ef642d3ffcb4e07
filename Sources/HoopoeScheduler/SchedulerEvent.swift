import Foundation

/// Something a ``JobScheduler`` did or failed to do, for the caller's logs and metrics.
public enum SchedulerEvent: Sendable {
    /// This scheduler enqueued the job for a tick.
    case enqueued(task: String, tick: Date)
    /// Another scheduler had already enqueued this tick; nothing was added.
    case alreadyEnqueued(task: String, tick: Date)
    /// A scheduler whose schedule file names `queue` for this task, not this one's `ownQueue`, claimed the tick first:
    /// its job went to `queue` (once, whichever scheduler enqueued it). The schedulers' files differ, as during a rolling
    /// restart that moves the task; once every scheduler has the same file, ticks go to its queue again.
    case claimedForAnotherQueue(task: String, tick: Date, queue: String, ownQueue: String)
    /// Some ticks were missed (due longer than the grace period); the policy decided about them.
    case missedTicks(task: String, latest: Date, policy: CatchUpPolicy)
    /// The task's stored last tick was later than the scheduler's time by more than the grace period: written by a
    /// scheduler whose clock ran ahead (before schedulers read Redis's). It is planned as a task never run, and the
    /// next advance overwrites it, rather than no tick being enqueued until the clock reaches it.
    case lastTickAhead(task: String, stored: Date)
    /// Handling a task failed (Redis unreachable, the enqueue failed); it is retried after
    /// ``JobSchedulerOptions/retryDelay``, and the per-tick dedupe keeps the retry from duplicating jobs.
    case failed(task: String, error: any Error)
    /// The clock could not be read at a wake-up and never has been (``SchedulerClock/synchronize()``): no task was
    /// handled; tried again after ``JobSchedulerOptions/retryDelay``.
    case clockUnavailable(error: any Error)
}
