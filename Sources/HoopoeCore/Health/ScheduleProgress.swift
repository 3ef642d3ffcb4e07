import Foundation

/// Where each enabled periodic task stands, read for the deployment check's `scheduler` finding: a live scheduler's
/// heartbeat proves the process runs, not that it enqueues ticks (a scheduler whose enqueues fail, or that was started
/// before a task was added to the file, beats all the same).
///
/// Built by HoopoeScheduler (`RedisLastTickStore.progress(of:)`), which reads the schedule and the last ticks; the
/// engine only judges it.
public struct ScheduleProgress: Sendable {
    /// One enabled task.
    public struct Task: Sendable, Hashable {
        /// The task's name.
        public let name: String
        /// The last tick a scheduler handled (enqueued, or skipped by its catch-up policy); nil when no scheduler ever
        /// handled the task.
        public let lastHandled: Date?
        /// The task's first tick after ``lastHandled``: the one a scheduler should handle next. nil when there is no
        /// last handled tick, or no tick after it.
        public let nextDue: Date?

        public init(name: String, lastHandled: Date?, nextDue: Date?) {
            self.name = name
            self.lastHandled = lastHandled
            self.nextDue = nextDue
        }
    }

    /// Redis's clock when the last ticks were read: the clock the schedulers plan by.
    public let now: Date
    /// How long after it falls due a tick may still be unhandled: the schedulers' grace period, after which they
    /// themselves count the tick as missed.
    public let lateAfter: TimeInterval
    /// The enabled tasks, in the file's order.
    public let tasks: [Task]

    public init(now: Date, lateAfter: TimeInterval, tasks: [Task]) {
        self.now = now
        self.lateAfter = lateAfter
        self.tasks = tasks
    }

    /// The tasks whose next tick fell due more than ``lateAfter`` ago, with how late each is (seconds).
    public var late: [(task: Task, seconds: TimeInterval)] {
        tasks.compactMap { task in
            guard let due = task.nextDue else { return nil }
            let late = now.timeIntervalSince(due)
            return late > lateAfter ? (task, late) : nil
        }
    }

    /// The tasks no scheduler has handled yet.
    public var neverHandled: [Task] { tasks.filter { $0.lastHandled == nil } }
}
