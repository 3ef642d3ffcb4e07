import Foundation

/// Decides which ticks of a task to enqueue, from the last handled tick and the time now. Pure: no I/O,
/// no clock, so every case is a plain unit test.
///
/// Definitions (all ticks are whole seconds):
/// - A tick is **due** when it is after the last handled tick and not after `now`.
/// - A due tick is **on time** when `now - tick <= gracePeriod`, and **missed** when it is older than that
///   (like sidekiq-cron's `reschedule_grace_period`). Missed ticks mean no scheduler was running, or all
///   were stalled, when they fell due; several on-time ticks at once (a per-second task) are not missed.
///
/// The plan:
/// - Nothing missed: every due tick, oldest first.
/// - Something missed, ``CatchUpPolicy/once``: only the latest due tick — one job stands for the missed
///   ticks (and for any on-time ones found with them).
/// - Something missed, ``CatchUpPolicy/skip``: the latest on-time tick only (often none); missed ones are dropped,
///   and so are the older on-time ones: after an outage a task every 5 seconds had up to 12 on-time ticks, all
///   enqueued at once, the burst the policy is there to avoid.
/// - Either way the last handled tick moves past everything that was due, so the task resumes normally
///   at its next tick.
/// - Never run (no last tick: a first start, a task new to the schedule, or one whose cron or zone changed, for which
///   ``JobScheduler`` passes none): nothing before `now` is
///   enqueued, not even ticks within the grace period — there was no downtime to catch up on, and replaying
///   the last minute would start a per-second task with 60 jobs at once. Only a tick in the current second
///   (a start exactly on time) runs; the plan records that second as the starting point, and later lateness
///   (and ``CatchUpPolicy``) is measured from there.
/// - A last tick later than `now` by more than the grace period is not believed: no scheduler that reads Redis's
///   clock (``RedisSchedulerClock``) writes one, so a scheduler with a clock ahead did. It is planned as never run
///   (``TickPlan/discardedLastTick`` says so), and the store's advance overwrites it; a last tick ahead by less (two
///   schedulers' clocks a moment apart) plans nothing until `now` reaches it.
public struct TickPlanner: Sendable, Hashable {
    /// The grace period used when none is given: 60 seconds, enough for a restart or a slow Redis, far
    /// less than the shortest sensible interval between ticks of a catch-up-sensitive task.
    public static let defaultGracePeriod: TimeInterval = 60

    /// How late a tick may be found and still count as on time.
    public let gracePeriod: TimeInterval

    /// - Parameter gracePeriod: how late a tick may be found and still count as on time (≥ 0).
    public init(gracePeriod: TimeInterval = TickPlanner.defaultGracePeriod) {
        precondition(gracePeriod >= 0, "a negative grace period would make every tick late")
        self.gracePeriod = gracePeriod
    }

    /// Plans one wake-up of one task.
    /// - Parameters:
    ///   - task: the task.
    ///   - lastTick: the last handled tick, as stored; nil when the task has never run.
    ///   - now: the scheduler's time.
    public func plan(for task: ScheduledTask, lastTick: Date?, now: Date) -> TickPlan {
        // Due ticks at or before `lastMissable` are missed; later ones (up to now) are on time.
        let lastMissable = (now.timeIntervalSince1970 - gracePeriod).rounded(.up) - 1
        let lastMissableDate = Date(timeIntervalSince1970: lastMissable)
        if let lastTick, lastTick.timeIntervalSince(now) > gracePeriod {
            let fresh = plan(for: task, lastTick: nil, now: now)
            return TickPlan(ticks: fresh.ticks, lastTick: fresh.lastTick, latestMissedTick: nil, discardedLastTick: lastTick)
        }
        guard let lastTick else {
            // Only a tick of the current second (a start exactly on time) is due.
            let start = Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down) - 1)
            let current = dueTicks(of: task, after: start, through: now)
            return TickPlan(ticks: current, lastTick: current.last ?? start, latestMissedTick: nil)
        }
        guard let first = task.nextTick(after: lastTick), first <= now else {
            return TickPlan(ticks: [], lastTick: nil, latestMissedTick: nil)
        }
        guard first <= lastMissableDate else {
            let due = dueTicks(of: task, after: lastTick, through: now)
            return TickPlan(ticks: due, lastTick: due.last, latestMissedTick: nil)
        }
        let latestMissed = latestTick(of: task, from: first, through: lastMissableDate)
        let onTime = dueTicks(of: task, after: lastMissableDate, through: now)
        switch task.catchUp {
        case .once:
            let latest = onTime.last ?? latestMissed
            return TickPlan(ticks: [latest], lastTick: latest, latestMissedTick: latestMissed)
        case .skip:
            let latest = onTime.last.map { [$0] } ?? []
            return TickPlan(ticks: latest, lastTick: onTime.last ?? latestMissed, latestMissedTick: latestMissed)
        }
    }

    /// Every tick in `(after, through]`, oldest first.
    private func dueTicks(of task: ScheduledTask, after start: Date, through end: Date) -> [Date] {
        var ticks: [Date] = []
        var cursor = start
        while let tick = task.nextTick(after: cursor), tick <= end {
            ticks.append(tick)
            cursor = tick
        }
        return ticks
    }

    /// The latest tick in `[first, end]`, given that `first` is a tick: a binary search over `next(after:)`
    /// (about 40 steps even after a year's outage of a per-second task) instead of walking every tick.
    private func latestTick(of task: ScheduledTask, from first: Date, through end: Date) -> Date {
        var low = Int64(first.timeIntervalSince1970)  // no tick in (low, end]? unknown
        var high = Int64(end.timeIntervalSince1970)  // no tick in (high, end]: true
        // Invariant: some tick in (low - 1, end] exists (first), and none in (high, end].
        while low < high {
            let middle = low + (high - low) / 2
            if let tick = task.nextTick(after: Date(timeIntervalSince1970: TimeInterval(middle))), tick <= end {
                low = Int64(tick.timeIntervalSince1970)
            } else {
                high = middle
            }
        }
        return Date(timeIntervalSince1970: TimeInterval(low))
    }
}
