import Foundation
import HoopoeCore
import Redis

/// ``LastTickStore`` in Redis: one string per task, `<prefix>:{<queue>}:schedule:<task>:last`, holding Unix seconds.
///
/// The key has no expiry: it is the task's history, and a few bytes per task. A task removed from the file leaves
/// its key behind: put back later under the same name and queue, it catches up the ticks missed meanwhile as its
/// `catch_up` says (`hoopoe scheduler --help` says so; `enabled: false` is the way to pause a task). An expiry would
/// end a long outage's catch-up too. A task renamed, or moved to another queue, starts afresh (as if never run).
///
/// The key carries the task's queue's hash tag, so on a Redis Cluster it lies in the slot of the queue the ticks are
/// enqueued to: one primary's replication stream holds both, and a failover that loses an enqueue loses the advance
/// after it too, so the tick is planned and enqueued again instead of being lost (docs/decisions/0084). Releases
/// before it kept `<prefix>:schedule:<task>:last` (``legacyKey(for:)``): read when the new key is missing, and
/// deleted once the new key is written.
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

    /// The last tick a value may name: the end of the year 9999 (what the advance script also reads as a tick).
    static let latestTick: Int64 = 253_402_300_799

    /// A value that is not a whole number from 0 to ``latestTick`` (edited by hand, say) reads as "never run", and the
    /// next advance overwrites it: the task restarts from now instead of stopping for good (or trapping the search for
    /// its next run).
    /// The key written by releases before decision 0084 is read when the task's key does not exist yet.
    public func lastTick(of task: ScheduledTask) async throws -> Date? {
        var reply = try await redis.send("GET", key(for: task))
        if reply.isNull { reply = try await redis.send("GET", legacyKey(for: task)) }
        guard let text = reply.string, let seconds = Int64(text), (0...Self.latestTick).contains(seconds) else { return nil }
        return Date(timeIntervalSince1970: TimeInterval(seconds))
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

    private func advance(_ task: ScheduledTask, to tick: Date, whileExists proof: String?) async throws -> Bool {
        let seconds = Int64(tick.timeIntervalSince1970.rounded(.down))
        let last = key(for: task)
        let reply = try await redis.run(
            Self.advanceScript, keys: [last, proof ?? last],
            arguments: [String(seconds), String(Int64(gracePeriod.rounded(.up))), proof == nil ? "0" : "1"])
        if reply.int == -1 { throw TickAheadOfRedis(task: task.name, tick: tick) }
        if reply.int == -2 { return false }
        if reply.int == 2 {
            // The task's key was written for the first time: a key of a release before decision 0084, read until now,
            // is done with. Not deleting it costs nothing until the task's key is lost, so a failure here is no
            // failure of the advance (the next wake-up would enqueue the tick again, refused as a duplicate).
            _ = try? await redis.send("DEL", legacyKey(for: task))
        }
        return true
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
    /// KEYS[2] exists.
    /// Returns 2 if the key held no tick (missing, or not a number, or later than Redis's clock + the grace period) and
    /// now does, 1 if the value moved, 0 if it was already at or past ARGV[1], -1 if ARGV[1] is later than Redis's
    /// clock + the grace period (not stored), -2 if ARGV[3] is "1" and KEYS[2] does not exist (not stored).
    static let advanceScript = RedisScript(
        name: "schedule_advance_last_tick", source: String(decoding: PackageResources.schedule_advance_last_tick_lua, as: UTF8.self))
}
