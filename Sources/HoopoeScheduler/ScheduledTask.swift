import Foundation
import HoopoeJSON

/// One periodic task from `jobs/schedule.yaml`: when it is due and what job to enqueue.
///
/// Values are already validated (``ScheduleFile`` builds them); the task's ``name`` is part of Redis keys,
/// so it must not change while a task is meant to keep its history.
public struct ScheduledTask: Sendable, Hashable {
    /// Unique within the file; appears in Redis keys and logs. Letters, digits, `.`, `_` and `-`.
    public let name: String
    /// When it is due.
    public let cron: CronExpression
    /// The zone whose wall clock ``cron`` describes.
    public let timeZone: TimeZone
    /// The job type (handler name) to enqueue, e.g. `reminders.expiration`.
    public let type: String
    /// The queue to enqueue on.
    public let queue: String
    /// The job's payload as written in the file; the enqueuer adds a `tick` field (the tick's time).
    public let payload: JSONValue
    /// Disabled tasks are validated but never scheduled.
    public let enabled: Bool
    /// What to do about missed ticks.
    public let catchUp: CatchUpPolicy

    /// - Parameters:
    ///   - name: unique task name (letters, digits, `.`, `_`, `-`).
    ///   - cron: when it is due.
    ///   - timeZone: the zone of the cron fields (default Asia/Tehran).
    ///   - type: the job type to enqueue.
    ///   - queue: the queue (default `default`).
    ///   - payload: the job's payload (default `{}`).
    ///   - enabled: whether it is scheduled at all (default true).
    ///   - catchUp: what to do about missed ticks (default ``CatchUpPolicy/once``).
    public init(
        name: String, cron: CronExpression, timeZone: TimeZone = ScheduleFile.defaultTimeZone, type: String,
        queue: String = ScheduleFile.defaultQueue, payload: JSONValue = .object([:]), enabled: Bool = true,
        catchUp: CatchUpPolicy = .once
    ) {
        self.name = name
        self.cron = cron
        self.timeZone = timeZone
        self.type = type
        self.queue = queue
        self.payload = payload
        self.enabled = enabled
        self.catchUp = catchUp
    }

    /// The task's first tick strictly after `date`, or nil if it has none within 400 years (``CronExpression/searchHorizon``).
    public func nextTick(after date: Date) -> Date? {
        cron.next(after: date, in: timeZone)
    }
}
