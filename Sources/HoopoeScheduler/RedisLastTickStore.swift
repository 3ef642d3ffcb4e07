import Foundation
import HoopoeCore
import Redis

/// ``LastTickStore`` in Redis: one string per task, `<prefix>:{<queue>}:schedule:<task>:last`, holding Unix seconds,
/// and beside it `…:last:schedule` (``scheduleKey(for:)``), the task's ``ScheduledTask/scheduleFingerprint`` when that
/// tick was handled, written by the same script. A tick with no such key (written by a release before session 60) reads
/// as handled under the task's schedule now. A key of its own, not a second field in the value: the value stays the
/// number other readers (and schedulers of an earlier release, during a rolling upgrade) take it for.
///
/// The key has no expiry: it is the task's history, and a few bytes per task. A task removed from the file leaves
/// its key behind: put back later under the same name (in any queue: below), it catches up the ticks missed meanwhile as its
/// `catch_up` says (`hoopoe scheduler --help` says so; `enabled: false` is the way to pause a task). An expiry would
/// end a long outage's catch-up too. A renamed task starts afresh (as if never run), and so does a task whose cron
/// expression or time zone changed (the fingerprint beside its last tick differs: ``history(of:)``).
///
/// The key carries the task's queue's hash tag, so on a Redis Cluster it lies in the slot of the queue the ticks are
/// enqueued to: one primary's replication stream holds both, and a failover that loses an enqueue loses the advance
/// after it too, so the tick is planned and enqueued again instead of being lost (docs/decisions/0084). Releases
/// before it kept `<prefix>:schedule:<task>:last` (``legacyKey(for:)``): read when the new key is missing, and
/// deleted once the new key is written.
///
/// A task moved to another queue keeps its history: every advance also records the task's queue in
/// `<prefix>:schedule:{<task>}:queue` (``queueRecordKey(for:)``, in the task's slot, which does not move); while the
/// key in the task's new queue is missing, the one in the recorded queue is read. An advance that finds the record
/// naming another queue sets the keys there to expire (``movedHistoryLifetime(of:after:)``), and a scheduler still
/// writing them (one with the old file, during a rolling restart) takes the expiry off again with each advance: until the
/// old file's schedulers are gone, each file's schedulers keep their own history, and still each warn of ticks the
/// other claimed (decision 0097). Before session 60 the moved task started from now: the ticks of the downtime that
/// spanned the move, even one within the grace period, were never enqueued, and the old key stayed for good.
public struct RedisLastTickStore: LastTickStore {
    /// The key prefix, `hoopoe` in production; tests use a unique one.
    public let prefix: String
    /// How far past Redis's clock a last tick may be (``TickPlanner/gracePeriod``): a later one is refused, and one
    /// stored is overwritten by the next advance.
    public let gracePeriod: TimeInterval
    private let redis: RedisClient

    /// - Parameters:
    ///   - redis: the shared client.
    ///   - prefix: the key prefix (default `hoopoe`).
    ///   - gracePeriod: how far past Redis's clock a last tick may be (default, as the planner's, 60 s).
    public init(redis: RedisClient, prefix: String = "hoopoe", gracePeriod: TimeInterval = TickPlanner.defaultGracePeriod) {
        self.redis = redis
        self.prefix = prefix
        self.gracePeriod = gracePeriod
    }

    /// The key holding a task's last handled tick.
    public func key(for task: ScheduledTask) -> String {
        QueueKeys(queue: task.queue, namespace: prefix).scheduleLastTick(task.name)
    }

    /// The key releases before decision 0084 kept a task's last handled tick in, outside any queue's slot.
    public func legacyKey(for task: ScheduledTask) -> String {
        "\(prefix):schedule:\(task.name):last"
    }

    /// The key holding a task's last handled tick while its jobs went to `queue`.
    func key(for task: ScheduledTask, in queue: String) -> String {
        QueueKeys(queue: queue, namespace: prefix).scheduleLastTick(task.name)
    }

    /// The key holding the ``ScheduledTask/scheduleFingerprint`` the task's last tick was handled under, beside it (the
    /// same slot, so the advance script writes both).
    public func scheduleKey(for task: ScheduledTask) -> String {
        scheduleKey(for: task, in: task.queue)
    }

    func scheduleKey(for task: ScheduledTask, in queue: String) -> String {
        "\(key(for: task, in: queue)):schedule"
    }

    /// The key recording which queue's key holds the task's last tick (``GlobalKeys/scheduleTaskQueue(task:)``).
    public func queueRecordKey(for task: ScheduledTask) -> String {
        GlobalKeys(namespace: prefix).scheduleTaskQueue(task: task.name)
    }

    /// The last tick a value may name: the end of the year 9999 (what the advance script also reads as a tick).
    static let latestTick: Int64 = 253_402_300_799

    /// The task's last handled tick, wherever it is kept (``history(of:)``).
    public func lastTick(of task: ScheduledTask) async throws -> Date? {
        try await history(of: task).lastTick
    }

    /// Reads the task's key in its queue; while it does not exist, the key in the queue its record names (a task
    /// moved: ``TickHistory/movedFrom``), then the key of releases before decision 0084.
    ///
    /// A value that is not a whole number from 0 to ``latestTick`` (edited by hand, say) reads as "never run", and the
    /// next advance overwrites it: the task restarts from now instead of stopping for good (or trapping the search for
    /// its next run). The history then names the key and what it held (``TickHistory/unreadable``), for the
    /// scheduler's warning: a history lost is not the "no history" of a task new to the file. A tick whose
    /// ``scheduleKey(for:)`` holds another fingerprint than the task's was handled under another schedule
    /// (``TickHistory/scheduleChanged``); one with none (an earlier release's) counts as the task's.
    public func history(of task: ScheduledTask) async throws -> TickHistory {
        var stored = try await read(task, in: task.queue)
        var readKey = key(for: task)
        var movedFrom: String?
        if stored.tick == nil, let recorded = try await recordedQueue(of: task), recorded != task.queue {
            stored = try await read(task, in: recorded)
            readKey = key(for: task, in: recorded)
            if stored.tick != nil { movedFrom = recorded }
        }
        if stored.tick == nil {
            stored = (try await redis.send("GET", legacyKey(for: task)), .null)
            readKey = legacyKey(for: task)
        }
        guard let reply = stored.tick, !reply.isNull else { return TickHistory(lastTick: nil) }
        guard let text = reply.string, let seconds = Int64(text), (0...Self.latestTick).contains(seconds) else {
            // Moved or not, nothing to continue from; the next advance overwrites it.
            return TickHistory(lastTick: nil, unreadable: UnreadableTick(key: readKey, value: reply.bytes ?? Array("\(reply)".utf8)))
        }
        let fingerprint = stored.schedule.string
        return TickHistory(
            lastTick: Date(timeIntervalSince1970: TimeInterval(seconds)),
            scheduleChanged: fingerprint.map { $0 != task.scheduleFingerprint } ?? false, movedFrom: movedFrom)
    }

    /// The task's last tick kept in `queue`'s slot and the schedule it was handled under, in one call (one slot); nil
    /// for a key that does not exist.
    private func read(_ task: ScheduledTask, in queue: String) async throws -> (tick: RedisReply?, schedule: RedisReply) {
        let replies = try await redis.send("MGET", key(for: task, in: queue), scheduleKey(for: task, in: queue)).array ?? []
        let tick = replies.first.flatMap { $0.isNull ? nil : $0 }
        return (tick, replies.count > 1 ? replies[1] : .null)
    }

    /// The queue the task's record names, nil when there is none, or it holds what no schedule file could name
    /// (written by hand).
    private func recordedQueue(of task: ScheduledTask) async throws -> String? {
        guard let queue = try await redis.send("GET", queueRecordKey(for: task)).string, EnvelopeRules.queueProblem(queue) == nil else {
            return nil
        }
        return queue
    }

    /// - Throws: ``TickAheadOfRedis`` when `tick` is later than Redis's clock by more than ``gracePeriod``: only a
    ///   scheduler on its host's clock, ahead, plans one, and stored it would stop every scheduler's plans until then.
    public func advanceLastTick(of task: ScheduledTask, to tick: Date) async throws {
        _ = try await advance(task, to: tick, whileExists: nil)
    }

    /// Checks `key` (the tick's once-key, in the task's queue's slot) in the same script: a Sentinel failover that
    /// switched the scheduler's connections between the enqueue (taken by the old primary in its last moments, then
    /// lost) and this advance (on the new one) stored the tick as handled with no job for it, a periodic run lost for
    /// good. Decision 0084's "one replication stream holds both" does not hold across the switch.
    public func advanceLastTick(of task: ScheduledTask, to tick: Date, whileExists key: String) async throws -> Bool {
        try await advance(task, to: tick, whileExists: key)
    }

    /// The advance, and the task's queue recorded in the same round trip (``queueRecordKey(for:)``, `SET … GET`, sent
    /// first, in the task's slot): at every advance, not only the first in a queue, since a key written by a release
    /// before session 60 has no record yet, and during a rolling restart that moves the task the other file's schedulers
    /// write theirs. A round trip of its own cost the concurrent schedulers their races for each tick (a test saw none
    /// in hundreds of ticks): they read the history after the first had stored it.
    ///
    /// When the record named another queue, the task's keys there are set to expire (``movedHistoryLifetime(of:after:)``),
    /// not deleted: during a rolling restart the old file's schedulers still plan from them, and deleted under them each
    /// would read the other file's history and write its own key anew, on and on, each finding the ticks the other handled
    /// done and never the claim that makes it warn (decision 0097). Their next advance's `SET` takes the expiry off; once
    /// none is left, the keys go. Read meanwhile (the task moved back), the older history plans again ticks the other
    /// queue's schedulers handled, but the claims they made (a day past the task's next tick: ``JobQueueTickSink``) send
    /// each to the job it has: a "missed ticks" warning at most, no second job.
    private func advance(_ task: ScheduledTask, to tick: Date, whileExists proof: String?) async throws -> Bool {
        let seconds = Int64(tick.timeIntervalSince1970.rounded(.down))
        let last = key(for: task)
        let (recorded, reply) = try await redis.run(
            Self.advanceScript, keys: [last, proof ?? last, scheduleKey(for: task)],
            arguments: [String(seconds), String(Int64(gracePeriod.rounded(.up))), proof == nil ? "0" : "1", task.scheduleFingerprint],
            after: [RedisCommand("SET", queueRecordKey(for: task), task.queue, "GET")])
        // A record no schedule file could name (written by hand), or a refused `SET`, names no other queue.
        let previous = recorded.first?.string.flatMap { $0 != task.queue && EnvelopeRules.queueProblem($0) == nil ? $0 : nil }
        // Nothing stored: the record goes back to the queue that still holds the history (best effort, as below).
        if reply.int == -1 || reply.int == -2, let previous { _ = try? await redis.send("SET", queueRecordKey(for: task), previous) }
        if reply.int == -1 { throw TickAheadOfRedis(task: task.name, tick: tick) }
        if reply.int == -2 { return false }
        // Neither the deletion nor the expiry is part of the advance: left undone, an old key costs a few bytes, and a
        // later move back reads it as above.
        if reply.int == 2 {
            // The task's key was written for the first time: a key of a release before decision 0084, read until now, is
            // done with.
            _ = try? await redis.send("DEL", legacyKey(for: task))
        }
        if let previous {
            let lifetime = String(Int64(movedHistoryLifetime(of: task, after: tick).rounded(.up)))
            _ = try? await redis.send("EXPIRE", key(for: task, in: previous), lifetime)
            _ = try? await redis.send("EXPIRE", scheduleKey(for: task, in: previous), lifetime)
        }
        return true
    }

    /// How long a task's history stays in a queue it was moved from, once no scheduler writes it: a day past the task's
    /// next tick (at most a year and a day), longer than the time between two advances of a scheduler that still writes
    /// it (whose advance takes the expiry off), as a tick's claim lives (``JobQueueTickSink/lifetime(of:tick:)``).
    func movedHistoryLifetime(of task: ScheduledTask, after tick: Date) -> TimeInterval {
        let period = task.nextTick(after: tick).map { max(0, min($0.timeIntervalSince(tick), 366 * 86_400)) } ?? 0
        return 86_400 + period
    }

    /// Where each task stands, for `health-check`'s `scheduler` finding: its last handled tick and the tick after it,
    /// against Redis's clock (the one the schedulers plan by), late after ``gracePeriod``.
    public func progress(of tasks: [ScheduledTask]) async throws -> ScheduleProgress {
        var states: [ScheduleProgress.Task] = []
        for task in tasks {
            let last = try await lastTick(of: task)
            states.append(ScheduleProgress.Task(name: task.name, lastHandled: last, nextDue: last.flatMap { task.nextTick(after: $0) }))
        }
        let now = try await redis.serverTime()
        return ScheduleProgress(now: Date(timeIntervalSince1970: now), lateAfter: gracePeriod, tasks: states)
    }

    /// A last tick refused for being later than Redis's clock (``advanceLastTick(of:to:)``).
    public struct TickAheadOfRedis: Error, CustomStringConvertible {
        public let task: String
        public let tick: Date
        public var description: String {
            "the last tick of \(task), \(tick), is later than Redis's clock: this scheduler's clock runs ahead; not stored"
        }
    }

    /// Compare and set in one step, so two schedulers writing at once cannot move the value backwards, and against
    /// Redis's `TIME`, so no scheduler's clock can move it past Redis's (decision 0083).
    /// `Lua/schedule_advance_last_tick.lua`, compiled into the binary.
    ///
    /// KEYS[1] → the task's last tick (``key(for:)``); KEYS[2] → the tick's once-key in the task's queue (the same
    /// slot; KEYS[1] again when not checked); ARGV[1] → the new tick, Unix seconds; ARGV[2] → the grace period, s; ARGV[3] → "1" to advance only while
    /// KEYS[2] exists; KEYS[3] → the schedule of the task's last tick (``scheduleKey(for:)``), set to ARGV[4], the task's
    /// ``ScheduledTask/scheduleFingerprint``, whenever KEYS[1] is set.
    /// Returns 2 if the key held no tick (missing, or not a number, or later than Redis's clock + the grace period) and
    /// now does, 1 if the value moved (or stayed at ARGV[1] and KEYS[3] held another schedule), 0 if it was already at or
    /// past ARGV[1], -1 if ARGV[1] is later than Redis's clock + the grace period (not stored), -2 if ARGV[3] is "1" and KEYS[2]
    /// does not exist (not stored).
    static let advanceScript = RedisScript(
        name: "schedule_advance_last_tick", source: String(decoding: PackageResources.schedule_advance_last_tick_lua, as: UTF8.self))
}
