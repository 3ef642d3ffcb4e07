import Foundation

/// Enqueues the ticks of periodic tasks, exactly once however many schedulers run.
///
/// Run one or several (one per host, say) against the same Redis; no leader is elected. At each wake-up
/// every scheduler, for every enabled task: reads the task's last handled tick (``LastTickStore``), plans
/// with ``TickPlanner``, hands each planned tick to the ``ScheduledJobSink`` — whose per-task-and-tick
/// dedupe key and claim make a second enqueue of the same tick a no-op, even by a scheduler whose file names another
/// queue for the task — and then moves the last handled tick
/// forward. Enqueue comes first and the move second, so a crash in between repeats an enqueue (refused
/// by the dedupe key) rather than losing a tick.
///
/// A disabled task (`enabled: false`) enqueues nothing, but its ticks still pass: each wake-up moves its last handled
/// tick past those due longer ago than the grace period, so re-enabled it resumes at its next tick instead of
/// counting the disabled time as downtime to catch up on (`catch_up: once` would otherwise enqueue one job at once).
///
/// A task's history is its last handled tick as ``LastTickStore/history(of:)`` finds it: moved to another queue, the task
/// continues from the history kept in the old queue (catching up as after any downtime); with another cron expression or
/// time zone than the history was stored under, it starts from now, as a task new to the file (``SchedulerNotice``).
///
/// The remaining gap: the engine's dedupe key lives 24 hours past the task's next tick, so a scheduler frozen for
/// longer between planning and enqueueing could enqueue a tick a second time.
public struct JobScheduler: Sendable {
    /// The tasks it schedules: the enabled ones it was given, in the given order.
    public let tasks: [ScheduledTask]
    /// The disabled tasks it was given: their ticks pass without jobs.
    private let disabledTasks: [ScheduledTask]
    /// Its settings.
    public let options: JobSchedulerOptions
    private let lastTicks: any LastTickStore
    private let sink: any ScheduledJobSink
    private let clock: any SchedulerClock
    private let planner: TickPlanner
    private let onEvent: @Sendable (SchedulerEvent) -> Void
    private let onNotice: @Sendable (SchedulerNotice) -> Void

    /// - Parameters:
    ///   - tasks: the tasks; disabled ones get no jobs, but their last handled tick follows the clock.
    ///   - lastTicks: the shared record of handled ticks (``RedisLastTickStore`` in production).
    ///   - sink: the enqueuer.
    ///   - clock: the time source (the system clock unless testing).
    ///   - options: grace period, retry delay, longest sleep.
    ///   - onEvent: called for every enqueue, duplicate, missed-tick decision and failure, for logs.
    ///   - onNotice: called when a task starts from now or its history moved queues (``SchedulerNotice``), for logs at info.
    public init(
        tasks: [ScheduledTask], lastTicks: any LastTickStore, sink: any ScheduledJobSink,
        clock: any SchedulerClock = SystemSchedulerClock(), options: JobSchedulerOptions = JobSchedulerOptions(),
        onEvent: @escaping @Sendable (SchedulerEvent) -> Void = { _ in },
        onNotice: @escaping @Sendable (SchedulerNotice) -> Void = { _ in }
    ) {
        self.tasks = tasks.filter(\.enabled)
        self.disabledTasks = tasks.filter { !$0.enabled }
        self.lastTicks = lastTicks
        self.sink = sink
        self.clock = clock
        self.options = options
        self.planner = TickPlanner(gracePeriod: options.gracePeriod)
        self.onEvent = onEvent
        self.onNotice = onNotice
    }

    /// Runs until the surrounding task is cancelled: handle every task, sleep until the next tick (or at
    /// most ``JobSchedulerOptions/maxSleep``), repeat. Failures are reported through `onEvent` and retried.
    public func run() async {
        while !Task.isCancelled {
            let wake = await runOnce()
            do {
                try await clock.sleep(until: wake)
            } catch {
                return  // cancelled
            }
        }
    }

    /// Handles every task once at the clock's current time.
    /// - Returns: when to wake up next.
    @discardableResult
    public func runOnce() async -> Date {
        do {
            try await clock.synchronize()
        } catch {
            onEvent(.clockUnavailable(error: error))
            return clock.now().addingTimeInterval(options.retryDelay)
        }
        let now = clock.now()
        var wake = now.addingTimeInterval(options.maxSleep)
        // Cancelled (SIGTERM) between tasks: stop. With Redis unreachable each task's call takes seconds to fail, and
        // going through them all kept a stopping scheduler alive past the supervisors' stop timeouts (15 s).
        for task in tasks where !Task.isCancelled {
            do {
                try await handle(task, now: now)
                if let next = task.nextTick(after: now) { wake = min(wake, next) }
            } catch {
                onEvent(.failed(task: task.name, error: error))
                wake = min(wake, now.addingTimeInterval(options.retryDelay))
            }
        }
        for task in disabledTasks where !Task.isCancelled {
            do {
                try await pass(task, now: now)
            } catch {
                onEvent(.failed(task: task.name, error: error))
            }
        }
        return wake
    }

    /// The next tick of every task after `now`, in task order (for `hoopoe schedule list`, which shows
    /// each in its task's ``ScheduledTask/timeZone``). Tasks with no tick within 400 years are left out.
    public func nextRuns(now: Date) -> [(task: ScheduledTask, next: Date)] {
        tasks.compactMap { task in task.nextTick(after: now).map { (task: task, next: $0) } }
    }

    private func handle(_ task: ScheduledTask, now: Date) async throws {
        let history = try await lastTicks.history(of: task)
        let plan = planner.plan(for: task, lastTick: Self.plannedLastTick(history), now: now)
        if let ahead = plan.discardedLastTick {
            onEvent(.lastTickAhead(task: task.name, stored: ahead))
        }
        if let latest = plan.latestMissedTick {
            onEvent(.missedTicks(task: task.name, latest: latest, policy: task.catchUp))
        }
        // The last tick's proof that its job is known, when it went to the task's own queue (its once-key is then in
        // the slot of the task's last tick).
        var proof: (tick: Date, key: String)?
        for tick in plan.ticks {
            let outcome = try await sink.enqueueTick(task: task, tick: tick)
            if outcome.queue != task.queue {
                onEvent(.claimedForAnotherQueue(task: task.name, tick: tick, queue: outcome.queue, ownQueue: task.queue))
            }
            proof = outcome.queue == task.queue ? outcome.proof.map { (tick, $0) } : nil
            onEvent(outcome.added ? .enqueued(task: task.name, tick: tick) : .alreadyEnqueued(task: task.name, tick: tick))
        }
        if let newLast = plan.lastTick {
            if let proof, proof.tick == newLast {
                guard try await lastTicks.advanceLastTick(of: task, to: newLast, whileExists: proof.key) else {
                    throw EnqueueLost(task: task.name, tick: newLast)  // .failed, and the tick planned again after retryDelay
                }
            } else {
                try await lastTicks.advanceLastTick(of: task, to: newLast)
            }
            report(history, of: task, discarded: plan.discardedLastTick != nil)
        }
    }

    /// The last tick to plan from: none when it was handled under another schedule (a changed cron expression or time
    /// zone). Planned from, the ticks of the new schedule since then would count as missed and `catch_up: once` would
    /// run the task at once (`0 9` changed to `0 10`, deployed at 10:30, ran twice that day); "nothing was missed
    /// because nothing was scheduled yet" holds for it as for a task new to the file (decision 0008, amended).
    static func plannedLastTick(_ history: TickHistory) -> Date? {
        history.scheduleChanged ? nil : history.lastTick
    }

    /// The notices of a task's history, once its plan's last tick is stored: at that advance a moved history moves,
    /// and a task started from now stops being new (earlier wake-ups that planned nothing stay silent).
    private func report(_ history: TickHistory, of task: ScheduledTask, discarded: Bool) {
        if let from = history.movedFrom { onNotice(.historyMoved(task: task.name, from: from, to: task.queue)) }
        if history.scheduleChanged {
            onNotice(.scheduleChanged(task: task.name))
        } else if history.lastTick == nil, !discarded {
            if let unreadable = history.unreadable {
                onNotice(.historyUnreadable(task: task.name, queue: task.queue, key: unreadable.key, content: unreadable.content))
            } else {
                onNotice(.startedFromNow(task: task.name, queue: task.queue))
            }
        }
    }

    /// A tick whose job's once-key was gone when its last tick was to advance past it: the enqueue's write was lost.
    struct EnqueueLost: Error, CustomStringConvertible {
        let task: String
        let tick: Date
        var description: String {
            "the job enqueued for \(task) at \(tick) is no longer in Redis (a failover lost the write); its last tick stays, and the tick is enqueued again"
        }
    }

    /// A disabled task's wake-up: its ticks due longer ago than the grace period pass unenqueued, and its last handled
    /// tick moves past them (whatever its catch-up policy, the plan's last tick is the latest due one). Not the ticks
    /// within the grace period: during a rolling restart a scheduler that has the task enabled may not have enqueued
    /// them yet, and a pass would take them from it; when it has, they are handled already, and when none has, they
    /// pass at a later wake-up.
    private func pass(_ task: ScheduledTask, now: Date) async throws {
        let settled = now.addingTimeInterval(-options.gracePeriod)
        let history = try await lastTicks.history(of: task)
        let plan = planner.plan(for: task, lastTick: Self.plannedLastTick(history), now: settled)
        if let newLast = plan.lastTick {
            try await lastTicks.advanceLastTick(of: task, to: newLast)
            // Only the move: a disabled task runs nothing, so its starting from now is no news.
            if let from = history.movedFrom { onNotice(.historyMoved(task: task.name, from: from, to: task.queue)) }
        }
    }
}
