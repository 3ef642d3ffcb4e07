import Foundation
import HoopoeCore
import HoopoeJSON
import Redis
import Synchronization
import TestSupport
import Testing

@testable import HoopoeScheduler

/// A task's history across the edits of its entry: moved to another queue it keeps it (and catches up), given another
/// cron expression or time zone it starts from now (decisions 0084 and 0008, amended in session 60).
@Suite struct TaskHistoryTests {
    static let utc = TimeZone(identifier: "UTC")!

    static func task(_ name: String, _ cron: String, queue: String = "default", zone: TimeZone = utc) -> ScheduledTask {
        ScheduledTask(name: name, cron: try! CronExpression(cron), timeZone: zone, type: "diag.record", queue: queue, catchUp: .once)
    }

    static func at(_ text: String) -> Date { SchedulerTestTime.date(text)! }

    /// What the schedulers reported, events and notices.
    final class Reports: Sendable {
        private let state = Mutex<(events: [String], notices: [SchedulerNotice])>(([], []))

        func record(_ event: SchedulerEvent) {
            let text: String = switch event {
            case .missedTicks(let task, let latest, _): "missed \(task) \(Int64(latest.timeIntervalSince1970))"
            case .failed(let task, let error): "failed \(task) \(error)"
            default: "\(event)"
            }
            state.withLock { $0.events.append(text) }
        }

        func record(_ notice: SchedulerNotice) { state.withLock { $0.notices.append(notice) } }

        var events: [String] { state.withLock { $0.events } }
        var notices: [SchedulerNotice] { state.withLock { $0.notices } }
    }

    /// Runs one scheduler over `[start, end]` of simulated time.
    static func run(
        _ tasks: [ScheduledTask], from start: String, to end: String, store: RedisLastTickStore, sink: any ScheduledJobSink, reports: Reports
    ) async {
        let timeline = VirtualTimeline(start: at(start), end: at(end))
        timeline.join()
        await JobScheduler(
            tasks: tasks, lastTicks: store, sink: sink, clock: VirtualClock(timeline: timeline, skew: 0), onEvent: reports.record,
            onNotice: reports.record
        ).run()
        timeline.leave()
    }

    /// The ticks of the jobs in `queue`'s stream.
    static func ticks(in queue: String, _ h: TestNamespace) async throws -> [Int64] {
        let entries = try await h.redis.send("XRANGE", h.jobs.keys(queue).stream, "-", "+").array ?? []
        return try entries.map { try JobEnvelope.decode($0.array![1].array![1].bytes!) }.compactMap { $0.payload["tick"]?.int64Value }
    }

    static func seconds(_ text: String) -> Int64 { Int64(at(text).timeIntervalSince1970) }

    // MARK: - A task moved to another queue

    /// The review's reproduction: the scheduler stopped at 07:40:14 and restarted at 07:42:19 with the task moved from
    /// `default` to `other`. It enqueued nothing, not even the 07:42 tick (inside the grace period), left the old key for
    /// good, and the health check found every task on time. It now reads the history kept in `default`, catches up
    /// (`catch_up: once`: the 07:42 tick stands for 07:41 too) and moves the history to `other`.
    @Test func aTaskMovedToAnotherQueueCatchesUpFromItsOldQueuesHistory() async throws {
        let h = try TestNamespace(#function)
        let store = RedisLastTickStore(redis: h.redis, prefix: h.namespace)
        let sink = JobQueueTickSink(jobs: h.jobs)
        let reports = Reports()
        let before = Self.task("mv", "* * * * *", queue: "default")
        await Self.run([before], from: "2025-06-01T07:38:20Z", to: "2025-06-01T07:40:14Z", store: store, sink: sink, reports: reports)
        #expect(try await Self.ticks(in: "default", h) == [Self.seconds("2025-06-01T07:39:00Z"), Self.seconds("2025-06-01T07:40:00Z")])

        let moved = Self.task("mv", "* * * * *", queue: "other")
        // What `health-check --schedule` and the dashboard read: the history, not "never run".
        #expect(try await store.lastTick(of: moved) == Self.at("2025-06-01T07:40:00Z"))
        #expect(try await store.history(of: moved) == TickHistory(lastTick: Self.at("2025-06-01T07:40:00Z"), movedFrom: "default"))

        await Self.run([moved], from: "2025-06-01T07:42:19Z", to: "2025-06-01T07:42:30Z", store: store, sink: sink, reports: reports)
        #expect(try await Self.ticks(in: "other", h) == [Self.seconds("2025-06-01T07:42:00Z")])
        #expect(reports.events.contains("missed mv \(Self.seconds("2025-06-01T07:41:00Z"))"), "\(reports.events)")
        #expect(reports.notices.contains(.historyMoved(task: "mv", from: "default", to: "other")), "\(reports.notices)")
        // The history lives in `other` now, the record names `other`, and `default`'s keys expire (a day and a minute).
        #expect(try await h.redis.send("GET", store.key(for: moved)).string == String(Self.seconds("2025-06-01T07:42:00Z")))
        #expect(try await h.redis.send("GET", store.queueRecordKey(for: moved)).string == "other")
        for key in [store.key(for: before), store.scheduleKey(for: before)] {
            let ttl = try await h.redis.send("TTL", key).int ?? -2
            #expect((86_400...86_460).contains(ttl), "\(key): \(ttl)")
        }
        #expect(try await store.history(of: moved) == TickHistory(lastTick: Self.at("2025-06-01T07:42:00Z")))
    }

    /// During a rolling restart that moves the task, a scheduler of the old file still writes the old queue's key: its
    /// advance takes the expiry off, and each file's schedulers keep planning from their own history (so each still sees,
    /// and warns of, ticks the other claimed). Once it is gone the old keys expire, and the task moved back then follows
    /// the record to where its history went.
    @Test func theOldQueuesHistoryExpiresOnlyOnceNoSchedulerWritesIt() async throws {
        let h = try TestNamespace(#function)
        let store = RedisLastTickStore(redis: h.redis, prefix: h.namespace)
        let inDefault = Self.task("hourly", "0 * * * *", queue: "default")
        let inOther = Self.task("hourly", "0 * * * *", queue: "other")
        try await store.advanceLastTick(of: inDefault, to: Self.at("2025-06-01T06:00:00Z"))
        #expect(try await store.history(of: inOther).movedFrom == "default")
        try await store.advanceLastTick(of: inOther, to: Self.at("2025-06-01T07:00:00Z"))
        #expect(try await h.redis.send("TTL", store.key(for: inDefault)).int ?? -2 > 0)
        // The old file's scheduler advances its key: the expiry is off, and it plans from its own history still.
        try await store.advanceLastTick(of: inDefault, to: Self.at("2025-06-01T07:00:00Z"))
        #expect(try await h.redis.send("TTL", store.key(for: inDefault)).int == -1)
        #expect(try await h.redis.send("TTL", store.scheduleKey(for: inDefault)).int == -1)
        #expect(try await store.history(of: inDefault) == TickHistory(lastTick: Self.at("2025-06-01T07:00:00Z")))
        // The new file's next advance finds the record flipped, and sets the old keys to expire again.
        try await store.advanceLastTick(of: inOther, to: Self.at("2025-06-01T08:00:00Z"))
        #expect(try await h.redis.send("TTL", store.key(for: inDefault)).int ?? -2 > 0)
        #expect(try await h.redis.send("TTL", store.key(for: inOther)).int == -1, "the task's own history never expires")
        // Expired (a day later), the task moved back reads where its history went.
        try await h.redis.send("DEL", store.key(for: inDefault), store.scheduleKey(for: inDefault))
        #expect(try await store.history(of: inDefault) == TickHistory(lastTick: Self.at("2025-06-01T08:00:00Z"), movedFrom: "other"))
        // A record no schedule file could name (written by hand) is no record.
        try await h.redis.send("SET", store.queueRecordKey(for: inDefault), "no such {queue}")
        #expect(try await store.history(of: inDefault) == TickHistory(lastTick: nil))
    }

    /// A key an earlier release wrote has no queue record: the first advance of this release writes it, so a later
    /// move keeps the history.
    @Test func aKeyOfAnEarlierReleaseGetsItsQueueRecordAtTheNextAdvance() async throws {
        let h = try TestNamespace(#function)
        let store = RedisLastTickStore(redis: h.redis, prefix: h.namespace)
        let inDefault = Self.task("hourly", "0 * * * *", queue: "default")
        try await h.redis.send("SET", store.key(for: inDefault), String(Self.seconds("2025-06-01T06:00:00Z")))
        #expect(try await store.history(of: Self.task("hourly", "0 * * * *", queue: "other")) == TickHistory(lastTick: nil))
        try await store.advanceLastTick(of: inDefault, to: Self.at("2025-06-01T07:00:00Z"))
        #expect(try await h.redis.send("GET", store.queueRecordKey(for: inDefault)).string == "default")
        #expect(try await store.history(of: Self.task("hourly", "0 * * * *", queue: "other")).lastTick == Self.at("2025-06-01T07:00:00Z"))
    }

    // MARK: - A task whose schedule changed

    /// The review's reproduction: last tick 07:00 under `0 * * * *`, restarted at 07:43 with `30 * * * *`. It warned of
    /// "missed ticks up to 07:30:00" and enqueued the 07:30 tick at once (a daily `0 9` changed to `0 10` deployed at
    /// 10:30 ran twice that day). It now starts from now: nothing at 07:43, the 08:30 tick at 08:30.
    @Test func aChangedCronStartsFromNowInsteadOfRunningAtOnce() async throws {
        let h = try TestNamespace(#function)
        let store = RedisLastTickStore(redis: h.redis, prefix: h.namespace)
        let sink = RedisTestSink(redis: h.redis, prefix: h.namespace)
        let reports = Reports()
        let hourly = Self.task("report", "0 * * * *")
        try await store.advanceLastTick(of: hourly, to: Self.at("2025-06-01T07:00:00Z"))
        let halfPast = Self.task("report", "30 * * * *")
        #expect(try await store.history(of: halfPast) == TickHistory(lastTick: Self.at("2025-06-01T07:00:00Z"), scheduleChanged: true))
        await Self.run([halfPast], from: "2025-06-01T07:43:00Z", to: "2025-06-01T08:31:00Z", store: store, sink: sink, reports: reports)
        #expect(try await sink.enqueued() == ["report@\(Self.seconds("2025-06-01T08:30:00Z"))"])
        #expect(!reports.events.contains { $0.hasPrefix("missed") }, "\(reports.events)")
        #expect(reports.notices == [.scheduleChanged(task: "report")], "once: the first advance stored the new schedule")
        #expect(try await store.history(of: halfPast) == TickHistory(lastTick: Self.at("2025-06-01T08:30:00Z")))
    }

    /// Another time zone is another schedule too: `0 9 * * *` in Tehran handled at 09:00 there (05:30 UTC), then the
    /// zone set to UTC and the scheduler restarted at 09:30 UTC: the 09:00 UTC tick is no missed tick.
    @Test func aChangedTimeZoneStartsFromNowToo() async throws {
        let h = try TestNamespace(#function)
        let store = RedisLastTickStore(redis: h.redis, prefix: h.namespace)
        let sink = RedisTestSink(redis: h.redis, prefix: h.namespace)
        let reports = Reports()
        let tehran = Self.task("daily", "0 9 * * *", zone: TimeZone(identifier: "Asia/Tehran")!)
        try await store.advanceLastTick(of: tehran, to: Self.at("2025-06-01T09:00:00+03:30"))
        await Self.run(
            [Self.task("daily", "0 9 * * *")], from: "2025-06-01T09:30:00Z", to: "2025-06-01T09:31:00Z", store: store, sink: sink,
            reports: reports)
        #expect(try await sink.enqueued() == [])
        #expect(reports.notices == [.scheduleChanged(task: "daily")])
    }

    /// An upgrade changes nothing: a last tick with no schedule beside it (written by an earlier release) counts as
    /// handled under the task's schedule, and the downtime is caught up as before.
    @Test func aTickWithoutAScheduleCountsAsTheTasks() async throws {
        let h = try TestNamespace(#function)
        let store = RedisLastTickStore(redis: h.redis, prefix: h.namespace)
        let sink = RedisTestSink(redis: h.redis, prefix: h.namespace)
        let reports = Reports()
        let hourly = Self.task("hourly", "0 * * * *")
        try await h.redis.send("SET", store.key(for: hourly), String(Self.seconds("2025-06-01T06:00:00Z")))
        await Self.run([hourly], from: "2025-06-01T09:30:20Z", to: "2025-06-01T09:30:30Z", store: store, sink: sink, reports: reports)
        #expect(try await sink.enqueued() == ["hourly@\(Self.seconds("2025-06-01T09:00:00Z"))"])
        #expect(reports.notices == [])
        #expect(try await h.redis.send("GET", store.scheduleKey(for: hourly)).string == hourly.scheduleFingerprint)
    }

    /// The advance stores the schedule with the tick, and at the same tick under another schedule rewrites it (else each
    /// wake-up until the next tick would find the schedule changed again); it never moves the tick back.
    @Test func theAdvanceStoresTheScheduleWithTheTick() async throws {
        let h = try TestNamespace(#function)
        let store = RedisLastTickStore(redis: h.redis, prefix: h.namespace)
        let hourly = Self.task("t", "0 * * * *")
        let halfPast = Self.task("t", "30 * * * *")
        try await store.advanceLastTick(of: hourly, to: Self.at("2025-06-01T07:00:00Z"))
        #expect(try await h.redis.send("GET", store.scheduleKey(for: hourly)).string == hourly.scheduleFingerprint)
        try await store.advanceLastTick(of: halfPast, to: Self.at("2025-06-01T07:00:00Z"))
        #expect(try await h.redis.send("GET", store.scheduleKey(for: hourly)).string == halfPast.scheduleFingerprint)
        try await store.advanceLastTick(of: hourly, to: Self.at("2025-06-01T06:00:00Z"))
        #expect(try await h.redis.send("GET", store.key(for: hourly)).string == String(Self.seconds("2025-06-01T07:00:00Z")))
        #expect(try await h.redis.send("GET", store.scheduleKey(for: hourly)).string == halfPast.scheduleFingerprint)
        #expect(HashSlot.of(store.scheduleKey(for: hourly)) == HashSlot.of(store.key(for: hourly)), "one script writes both")
    }

    /// The fingerprint follows when the task is due, not how the entry is written, and not what else it says.
    @Test func theFingerprintIsTheSchedulesValues() throws {
        func print(_ cron: String, zone: String = "UTC", queue: String = "default") -> String {
            ScheduledTask(name: "t", cron: try! CronExpression(cron), timeZone: TimeZone(identifier: zone)!, type: "x", queue: queue)
                .scheduleFingerprint
        }
        #expect(print("@daily") == print("0 0 * * *"))
        #expect(print("0 9 * * 1") == print("0  9 * * MON"))
        #expect(print("* * * * *") == print("0 * * * * *"))
        #expect(print("0 9 * * *", queue: "other") == print("0 9 * * *"))
        #expect(print("0 9 * * *") != print("0 10 * * *"))
        #expect(print("0 9 * * *") != print("0 9 * * *", zone: "Asia/Tehran"))
        #expect(print("0 0 1 * MON") != print("0 0 1 * *"))
        // The same in every process and release: a new value would take every task for changed at the upgrade.
        #expect(print("0 9 * * *", zone: "Asia/Tehran") == "f1f67466f59658cc")
        #expect(print("0 9 * * *", zone: "Asia/Tehran").count == 16)
    }
}
