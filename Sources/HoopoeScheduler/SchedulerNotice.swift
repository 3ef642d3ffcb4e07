import Foundation

/// What a ``JobScheduler`` found about a task's history and acted on, for the caller's log at info: nothing failed,
/// and nothing is to be done, but the task's plan is not the plain continuation of its last tick. One is for a warning:
/// ``historyUnreadable(task:queue:key:content:)``, a history lost.
///
/// Separate from ``SchedulerEvent`` (warnings and failures) so that a caller who switches over every event is not
/// broken by notices it does not log.
public enum SchedulerNotice: Sendable, Hashable {
    /// The task had no history (a first start, a task new to the file or renamed, a history lost): it started from now,
    /// in `queue`, and no earlier tick was enqueued (decision 0008).
    case startedFromNow(task: String, queue: String)
    /// The task's last-tick key `key` exists but holds `content` (quoted, cut and masked: ``UnreadableTick``), not a
    /// tick: it started from now in `queue` as a task never run, no earlier tick enqueued, and its next advance
    /// overwrote the key. For a warning: someone or something wrote the key, and the ticks since its last real value
    /// are not caught up. It read as ``startedFromNow(task:queue:)``, "no history", at info.
    case historyUnreadable(task: String, queue: String, key: String, content: String)
    /// The task's last tick was stored under another cron expression or time zone: it started from now, as a task new
    /// to the file, instead of counting the ticks of its new schedule since then as missed (decision 0008, amended).
    case scheduleChanged(task: String)
    /// The task's history was in the key of queue `from` (the task was moved from it to `to`): the plan continued from
    /// it, caught up as after any downtime, and the history now lives in `to` (decision 0084, amended).
    case historyMoved(task: String, from: String, to: String)
}
