import Foundation
import HoopoeCore
import HoopoeJSON
import Redis

/// The production ``ScheduledJobSink``: claims a tick for a queue, then enqueues it there through the engine's enqueue
/// script with a once-key per task and tick, `hoopoe:{<queue>}:once:schedule:<task>:<tick>`, so the tick becomes
/// exactly one job however many schedulers race for it. The job's payload is the task's payload plus `tick` (Unix
/// seconds).
///
/// Why the claim (docs/decisions/0097): the once-key lives in the queue's slot, beside the stream the script writes,
/// so two schedulers whose files name different queues for a task (the old file and the new one during a rolling
/// restart) would each find their own once-key free and enqueue the tick twice. The claim,
/// `hoopoe:schedule:{<task>}:claim:<tick>`, holds the queue of the first scheduler to handle the tick (`SET NX`), and
/// every scheduler enqueues the tick to that queue, where the once-key makes it one job. A scheduler that crashed
/// between its claim and its enqueue loses nothing: whoever plans the tick next finds the claim and enqueues it to
/// that queue.
public struct JobQueueTickSink: ScheduledJobSink {
    private let jobs: JobQueue
    /// How long a tick's once-key and claim are remembered past the task's next tick (24 h; see ``JobScheduler`` for
    /// what that bounds, and ``lifetime(of:tick:)``).
    public let remember: Duration

    /// - Parameters:
    ///   - jobs: the engine.
    ///   - remember: the once-key's and the claim's lifetime past the task's next tick.
    public init(jobs: JobQueue, remember: Duration = .seconds(86_400)) {
        self.jobs = jobs
        self.remember = remember
    }

    public func enqueueTick(task: ScheduledTask, tick: Date) async throws -> TickEnqueue {
        let seconds = Int64(tick.timeIntervalSince1970.rounded(.down))
        let lifetime = lifetime(of: task, tick: tick)
        let queue = try await claim(task: task, tick: seconds, lifetime: lifetime)
        let onceKey = "schedule:\(task.name):\(seconds)"
        let result = try await jobs.enqueue(
            type: task.type, payload: task.jobPayload(namespace: jobs.namespace, tick: seconds),
            options: EnqueueOptions(queue: queue, onceKey: onceKey, onceFor: lifetime))
        return TickEnqueue(added: result.createdID != nil, queue: queue, proof: jobs.keys(queue).once(onceKey))
    }

    /// How long a tick's once-key and claim live: ``remember`` past the task's next tick. Until then the tick is the
    /// latest a scheduler can plan for it, and one reading a stale last tick plans exactly it: a weekly task moved to
    /// another queue and moved back a few days later (a rollback) found its old queue's last tick a week behind,
    /// planned Monday's tick again, and with the 24-hour keys gone enqueued it a second time (a review found it). The
    /// same holds for a scheduler that crashed between enqueue and advance and stayed down for more than a day.
    /// At most a year and a day past the tick (`@yearly`). Two keys a tick (the claim and the once-key, ~270 bytes) for
    /// about a day, so a task's keys grow with its rate: ~2,900 for a task every minute (~390 KB), ~173,000 for one
    /// every second (~23 MB), which a six-field cron allows; decision 0097 has the sizes.
    func lifetime(of task: ScheduledTask, tick: Date) -> Duration {
        let period = task.nextTick(after: tick).map { max(0, min($0.timeIntervalSince(tick), 366 * 86_400)) } ?? 0
        return remember + .seconds(Int64(period.rounded(.up)))
    }

    /// The queue the tick's job goes to: the task's when this call claimed the tick (or the claim has expired), else
    /// the queue the first claimant's file named.
    ///
    /// Two commands, not a script: `SET NX GET` needs Redis 7, and the `GET` runs only for a tick claimed already. A
    /// claim gone between the two (expired, deleted by hand) is taken again. Durable as the enqueue is: with
    /// `REDIS_WAIT_REPLICAS` a failover must not lose a claim whose queue another file's scheduler would then claim.
    private func claim(task: ScheduledTask, tick: Int64, lifetime: Duration) async throws -> String {
        let key = jobs.global.scheduleTickClaim(task: task.name, tick: tick)
        let lifetime = String(max(1, lifetime.components.seconds))
        for _ in 0..<2 {
            let set = try await jobs.redis.send(RedisCommand("SET", key, task.queue, "NX", "EX", lifetime), durable: true)
            if !set.isNull { return task.queue }
            guard let claimed = try await jobs.redis.send("GET", key).string else { continue }
            // A value no schedule file could name (written by hand) is no claim: the tick goes to this task's queue.
            return EnvelopeRules.queueProblem(claimed) == nil ? claimed : task.queue
        }
        return task.queue
    }
}
