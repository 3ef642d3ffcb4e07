import Foundation
import HoopoeScheduler
import Redis
import Synchronization
import Testing

/// The issue's must-show: several schedulers against one real Redis over simulated hours (no real waiting).
@Suite struct JobSchedulerSimulationTests {
    static let tehran = TimeZone(identifier: "Asia/Tehran")!

    static func task(_ name: String, _ cron: String, _ catchUp: CatchUpPolicy) -> ScheduledTask {
        ScheduledTask(name: name, cron: try! CronExpression(cron), timeZone: tehran, type: name, catchUp: catchUp)
    }

    let minutely = task("every.minute", "* * * * *", .once)
    let hourlyOnce = task("hourly.once", "0 * * * *", .once)
    let hourlySkip = task("hourly.skip", "0 * * * *", .skip)

    /// Counts what the schedulers reported.
    final class Events: Sendable {
        private let counts = Mutex<[String: Int]>([:])
        private let failures = Mutex<[String]>([])

        func record(_ event: SchedulerEvent) {
            switch event {
            case .enqueued: counts.withLock { $0["enqueued", default: 0] += 1 }
            case .alreadyEnqueued: counts.withLock { $0["alreadyEnqueued", default: 0] += 1 }
            case .missedTicks(let task, _, _): counts.withLock { $0["missed:\(task)", default: 0] += 1 }
            case .failed(let task, let error): failures.withLock { $0.append("\(task): \(error)") }
            case .clockUnavailable(let error): failures.withLock { $0.append("clock: \(error)") }
            case .lastTickAhead(let task, _): counts.withLock { $0["ahead:\(task)", default: 0] += 1 }
            case .claimedForAnotherQueue(let task, _, let queue, _): counts.withLock { $0["claimed:\(task):\(queue)", default: 0] += 1 }
            }
        }

        subscript(_ key: String) -> Int { counts.withLock { $0[key] ?? 0 } }
        var failed: [String] { failures.withLock { $0 } }
    }

    /// Runs one scheduler per skew, each with its own Redis client, from `start` until `end` of simulated time.
    /// - Parameter readTogether: each reads a task's history only as the others do (``ReadTogetherStore``), so all
    ///   plan every tick they share and race for it (for schedulers whose clocks agree: they wake together).
    /// - Returns: how many times reading together was given up on (a scheduler did not come within 30 s).
    @discardableResult
    func runSchedulers(
        _ tasks: [ScheduledTask], from start: Date, to end: Date, skews: [TimeInterval], redis: SchedulerTestRedis, prefix: String,
        events: Events, readTogether: Bool = false
    ) async throws -> Int {
        let timeline = VirtualTimeline(start: start, end: end)
        let clients = try skews.map { _ in try redis.client() }
        defer { clients.forEach { $0.close() } }
        let gathering = readTogether ? ReadTogetherStore.Gathering(parties: skews.count, timeline: timeline) : nil
        await withTaskGroup(of: Void.self) { group in
            for (skew, client) in zip(skews, clients) {
                timeline.join()
                let store = RedisLastTickStore(redis: client, prefix: prefix)
                let lastTicks: any LastTickStore = if let gathering { ReadTogetherStore(store: store, gathering: gathering) } else { store }
                let scheduler = JobScheduler(
                    tasks: tasks, lastTicks: lastTicks,
                    sink: RedisTestSink(redis: client, prefix: prefix), clock: VirtualClock(timeline: timeline, skew: skew),
                    onEvent: events.record)
                group.addTask {
                    await scheduler.run()
                    timeline.leave()
                }
            }
        }
        return gathering?.abandoned.withLock { $0 } ?? 0
    }

    /// `<task>@<unix seconds>` for every tick of `task` in `[from, through]`.
    func expectedEntries(_ task: ScheduledTask, from: String, through: String) -> [String] {
        var entries: [String] = []
        var cursor = SchedulerTestTime.date(from)!.addingTimeInterval(-1)
        let last = SchedulerTestTime.date(through)!
        while let tick = task.nextTick(after: cursor), tick <= last {
            entries.append("\(task.name)@\(Int64(tick.timeIntervalSince1970))")
            cursor = tick
        }
        return entries
    }

    @Test func threeSchedulersEnqueueEveryTickExactlyOnceAndCatchUpAfterAnOutage() async throws {
        let redis = try SchedulerTestRedis()
        let prefix = redis.uniquePrefix()
        let tasks = [minutely, hourlyOnce, hourlySkip]
        let events = Events()
        let inspector = try redis.client()
        defer { inspector.close() }
        let sink = RedisTestSink(redis: inspector, prefix: prefix)

        // Six hours, three schedulers with identical clocks: they wake together and race for every tick (each reads a
        // task's history as the others do, so none finds a tick stored before it planned).
        let started = ContinuousClock.now
        let abandoned = try await runSchedulers(
            tasks, from: SchedulerTestTime.date("2025-06-01T00:00:20+03:30")!, to: SchedulerTestTime.date("2025-06-01T06:00:30+03:30")!,
            skews: [0, 0, 0], redis: redis, prefix: prefix, events: events, readTogether: true)
        let firstPhase = try await sink.enqueued()
        #expect(events.failed.isEmpty, "\(events.failed)")
        for task in tasks {
            let entries = firstPhase.filter { $0.hasPrefix(task.name + "@") }
            // A first start (no history) at 00:00:20 does not replay the 00:00 ticks: the first is the next one.
            #expect(entries == expectedEntries(task, from: "2025-06-01T00:00:21+03:30", through: "2025-06-01T06:00:00+03:30"), "\(task.name)")
        }
        #expect(firstPhase.count == 360 + 6 + 6)
        // They really raced: at every tick the other two's attempts were refused by the per-tick key.
        #expect(abandoned == 0, "a scheduler did not read a task's history with the others")
        #expect(events["alreadyEnqueued"] == 2 * firstPhase.count)
        #expect(events["enqueued"] == firstPhase.count)

        // Outage from 06:00:30 to 09:30:20: no scheduler runs. Then three schedulers with skewed clocks restart.
        try await runSchedulers(
            tasks, from: SchedulerTestTime.date("2025-06-01T09:30:20+03:30")!, to: SchedulerTestTime.date("2025-06-01T12:00:30+03:30")!,
            skews: [0, 0.4, 1.1], redis: redis, prefix: prefix, events: events)
        let all = try await sink.enqueued()
        #expect(events.failed.isEmpty, "\(events.failed)")
        #expect(Set(all).count == all.count, "no tick enqueued twice")
        let secondPhase = Array(all.dropFirst(firstPhase.count))

        // `once`: one job (the 09:00 tick) for the missed 07:00, 08:00 and 09:00, then 10:00, 11:00, 12:00 as usual.
        #expect(secondPhase.filter { $0.hasPrefix("hourly.once@") } ==
            expectedEntries(hourlyOnce, from: "2025-06-01T09:00:00+03:30", through: "2025-06-01T12:00:00+03:30"))
        // `skip`: nothing for the missed ticks; 10:00, 11:00, 12:00 as usual.
        #expect(secondPhase.filter { $0.hasPrefix("hourly.skip@") } ==
            expectedEntries(hourlySkip, from: "2025-06-01T10:00:00+03:30", through: "2025-06-01T12:00:00+03:30"))
        // The minutely task (`once`): one job for the missed minutes (the 09:30 tick), then every minute.
        #expect(secondPhase.filter { $0.hasPrefix("every.minute@") } ==
            expectedEntries(minutely, from: "2025-06-01T09:30:00+03:30", through: "2025-06-01T12:00:00+03:30"))
        #expect(events["missed:hourly.once"] >= 1)
        #expect(events["missed:hourly.skip"] >= 1)
        #expect(events["enqueued"] == all.count)
        // No real waiting: 8.5 simulated hours of three schedulers in well under a minute.
        #expect(ContinuousClock.now - started < .seconds(60))
    }

    @Test func aTaskReenabledResumesAtItsNextTickWithoutCatchingUpTheDisabledHours() async throws {
        let redis = try SchedulerTestRedis()
        let prefix = redis.uniquePrefix()
        let events = Events()
        let inspector = try redis.client()
        defer { inspector.close() }
        let sink = RedisTestSink(redis: inspector, prefix: prefix)
        let off = ScheduledTask(
            name: hourlyOnce.name, cron: hourlyOnce.cron, timeZone: Self.tehran, type: hourlyOnce.type, enabled: false, catchUp: .once)
        // Enabled for an hour, disabled (a scheduler running the edited file) for four, then enabled again.
        try await runSchedulers(
            [hourlyOnce], from: SchedulerTestTime.date("2025-06-01T00:00:20+03:30")!, to: SchedulerTestTime.date("2025-06-01T01:00:30+03:30")!,
            skews: [0], redis: redis, prefix: prefix, events: events)
        try await runSchedulers(
            [off], from: SchedulerTestTime.date("2025-06-01T01:00:40+03:30")!, to: SchedulerTestTime.date("2025-06-01T05:02:00+03:30")!,
            skews: [0], redis: redis, prefix: prefix, events: events)
        #expect(try await sink.enqueued() == expectedEntries(hourlyOnce, from: "2025-06-01T01:00:00+03:30", through: "2025-06-01T01:00:00+03:30"))
        try await runSchedulers(
            [hourlyOnce], from: SchedulerTestTime.date("2025-06-01T05:02:10+03:30")!, to: SchedulerTestTime.date("2025-06-01T07:00:30+03:30")!,
            skews: [0], redis: redis, prefix: prefix, events: events)
        // No catch-up job for 02:00–05:00 (`catch_up: once` would enqueue the 05:00 tick at 05:02:10): 06:00 and 07:00.
        let all = try await sink.enqueued()
        #expect(all == expectedEntries(hourlyOnce, from: "2025-06-01T01:00:00+03:30", through: "2025-06-01T01:00:00+03:30")
            + expectedEntries(hourlyOnce, from: "2025-06-01T06:00:00+03:30", through: "2025-06-01T07:00:00+03:30"))
        #expect(events["missed:hourly.once"] == 0)
        #expect(events.failed.isEmpty, "\(events.failed)")
    }

    /// A rolling restart that enables a task: a scheduler that still has it disabled, waking at the tick, does not
    /// take the tick from the one that has it enabled (it passes only ticks older than the grace period).
    @Test func aSchedulerThatHasTheTaskDisabledLeavesOnTimeTicksToOneThatHasItEnabled() async throws {
        let redis = try SchedulerTestRedis()
        let prefix = redis.uniquePrefix()
        let client = try redis.client()
        defer { client.close() }
        let sink = RedisTestSink(redis: client, prefix: prefix)
        let store = RedisLastTickStore(redis: client, prefix: prefix)
        let off = ScheduledTask(
            name: hourlyOnce.name, cron: hourlyOnce.cron, timeZone: Self.tehran, type: hourlyOnce.type, enabled: false, catchUp: .once)
        try await store.advanceLastTick(of: hourlyOnce, to: SchedulerTestTime.date("2025-06-01T09:00:00+03:30")!)
        // 10:00:00: the old scheduler (task disabled) wakes first, then the new one (enabled), a second later.
        let old = JobScheduler(tasks: [off], lastTicks: store, sink: sink, clock: FixedClock(SchedulerTestTime.date("2025-06-01T10:00:00+03:30")!))
        await old.runOnce()
        let new = JobScheduler(tasks: [hourlyOnce], lastTicks: store, sink: sink, clock: FixedClock(SchedulerTestTime.date("2025-06-01T10:00:01+03:30")!))
        await new.runOnce()
        #expect(try await sink.enqueued() == expectedEntries(hourlyOnce, from: "2025-06-01T10:00:00+03:30", through: "2025-06-01T10:00:00+03:30"))
    }

    @Test func thePerTickKeyAloneKeepsTicksUniqueWhenLastTicksDisagree() async throws {
        // Two schedulers whose last-tick records are separate (as after losing that key): both plan every
        // tick, and the sink's per-task-and-tick key still lets each through once.
        let redis = try SchedulerTestRedis()
        let prefix = redis.uniquePrefix()
        let client = try redis.client()
        defer { client.close() }
        let sink = RedisTestSink(redis: client, prefix: prefix)
        let events = Events()
        let timeline = VirtualTimeline(
            start: SchedulerTestTime.date("2025-06-01T10:00:20+03:30")!, end: SchedulerTestTime.date("2025-06-01T10:30:30+03:30")!)
        await withTaskGroup(of: Void.self) { group in
            for store in ["a", "b"] {
                timeline.join()
                let scheduler = JobScheduler(
                    tasks: [minutely], lastTicks: RedisLastTickStore(redis: client, prefix: "\(prefix):\(store)"), sink: sink,
                    clock: VirtualClock(timeline: timeline, skew: 0), onEvent: events.record)
                group.addTask {
                    await scheduler.run()
                    timeline.leave()
                }
            }
        }
        let entries = try await sink.enqueued()
        // No history at 10:00:20: the first tick is 10:01 (a first start replays nothing).
        #expect(entries == expectedEntries(minutely, from: "2025-06-01T10:00:21+03:30", through: "2025-06-01T10:30:00+03:30"))
        #expect(events["enqueued"] == 30)
        #expect(events["alreadyEnqueued"] == 30)
    }

    @Test func lastTickOnlyMovesForward() async throws {
        let redis = try SchedulerTestRedis()
        let client = try redis.client()
        defer { client.close() }
        let store = RedisLastTickStore(redis: client, prefix: redis.uniquePrefix())
        #expect(store.key(for: minutely).hasSuffix(":schedule:every.minute:last"))
        #expect(try await store.lastTick(of: minutely) == nil)
        try await store.advanceLastTick(of: minutely, to: Date(timeIntervalSince1970: 1_000))
        try await store.advanceLastTick(of: minutely, to: Date(timeIntervalSince1970: 900))
        #expect(try await store.lastTick(of: minutely) == Date(timeIntervalSince1970: 1_000))
        try await store.advanceLastTick(of: minutely, to: Date(timeIntervalSince1970: 1_060.7))
        #expect(try await client.send("GET", store.key(for: minutely)).string == "1060")
        // A value that is not a number (edited by hand) reads as "never run" and is overwritten.
        try await client.send("SET", store.key(for: minutely), "garbage")
        #expect(try await store.lastTick(of: minutely) == nil)
        try await store.advanceLastTick(of: minutely, to: Date(timeIntervalSince1970: 5))
        #expect(try await store.lastTick(of: minutely) == Date(timeIntervalSince1970: 5))
        // A tick later than Redis's clock by more than the grace period is refused (only a scheduler on a host clock
        // that runs ahead plans one), and one stored is overwritten by the next advance, even backwards.
        let redisNow = Double(try await client.send("TIME").array?.first?.string ?? "") ?? 0
        await #expect(throws: RedisLastTickStore.TickAheadOfRedis.self) {
            try await store.advanceLastTick(of: minutely, to: Date(timeIntervalSince1970: redisNow + 86_400 * 365))
        }
        #expect(try await store.lastTick(of: minutely) == Date(timeIntervalSince1970: 5))
        try await client.send("SET", store.key(for: minutely), String(Int64(redisNow) + 86_400 * 365))
        try await store.advanceLastTick(of: minutely, to: Date(timeIntervalSince1970: 6))
        #expect(try await store.lastTick(of: minutely) == Date(timeIntervalSince1970: 6))
        try await store.advanceLastTick(of: minutely, to: Date(timeIntervalSince1970: redisNow + 30))
        #expect(try await store.lastTick(of: minutely) == Date(timeIntervalSince1970: Double(Int64(redisNow + 30))), "within the grace period")
        try await store.advanceLastTick(of: minutely, to: Date(timeIntervalSince1970: 5))
        // So does a number no clock reaches (past the year 9999, or before 1970): it trapped the cron search.
        for absurd in ["99999999999999999999", "9223372036854775807", "-9223372036854775808", "253402300800"] {
            try await client.send("SET", store.key(for: minutely), absurd)
            #expect(try await store.lastTick(of: minutely) == nil, "\(absurd)")
            try await store.advanceLastTick(of: minutely, to: Date(timeIntervalSince1970: 7))
            #expect(try await store.lastTick(of: minutely) == Date(timeIntervalSince1970: 7), "\(absurd)")
        }
        #expect(minutely.cron.next(after: Date(timeIntervalSince1970: 9.2e18), in: TimeZone(identifier: "UTC")!) == nil)
        #expect(minutely.cron.next(after: Date(timeIntervalSince1970: -.infinity), in: TimeZone(identifier: "UTC")!) == nil)
    }

    @Test func nextRunsListsEachEnabledTask() throws {
        let disabled = ScheduledTask(name: "off", cron: try CronExpression("@daily"), type: "off", enabled: false)
        let scheduler = JobScheduler(
            tasks: [hourlyOnce, disabled, minutely], lastTicks: NeverRunStore(), sink: RefusingSink())
        let now = SchedulerTestTime.date("2025-06-01T10:07:30+03:30")!
        let runs = scheduler.nextRuns(now: now)
        #expect(runs.map(\.task.name) == ["hourly.once", "every.minute"])
        #expect(runs.map(\.next) == [SchedulerTestTime.date("2025-06-01T11:00:00+03:30")!, SchedulerTestTime.date("2025-06-01T10:08:00+03:30")!])
    }

    @Test func failuresAreReportedAndRetriedSoon() async throws {
        let timeline = VirtualTimeline(start: SchedulerTestTime.date("2025-06-01T10:00:20+03:30")!, end: .distantFuture)
        let events = Events()
        let scheduler = JobScheduler(
            tasks: [hourlyOnce], lastTicks: RanAtStore(last: SchedulerTestTime.date("2025-06-01T09:00:00+03:30")!), sink: RefusingSink(),
            clock: VirtualClock(timeline: timeline, skew: 0),
            options: JobSchedulerOptions(retryDelay: 5), onEvent: events.record)
        let wake = await scheduler.runOnce()
        #expect(events.failed.count == 1)
        #expect(wake == SchedulerTestTime.date("2025-06-01T10:00:25+03:30")!)
    }
}

/// A ``RedisLastTickStore`` whose schedulers read a task's history together: a read returns once every scheduler
/// of the ``Gathering`` has read that task at this instant of the timeline, so each plans from the history as it was
/// before any of them stored the tick, and every tick is tried by all of them.
///
/// Without it schedulers that wake together race only by chance: the Redis client hands a lone call's reply back on
/// the caller's thread without suspending (decision 0046), so on a loaded machine one scheduler can read, enqueue and
/// store a tick before the next reads its history, which then plans nothing; a run could see no duplicate refused in
/// all 372 ticks. Time stands still meanwhile (``VirtualTimeline``: the readers are working, not sleeping).
struct ReadTogetherStore: LastTickStore {
    /// The schedulers that read together, and the reads waiting for the rest.
    final class Gathering: Sendable {
        let parties: Int
        let timeline: VirtualTimeline
        /// The reads of one task at one instant that came, and the real-time limit on waiting for the rest.
        private typealias Entry = (readers: [CheckedContinuation<Void, Never>], limit: Task<Void, Never>)
        /// Per task and instant.
        private let waiting = Mutex<[String: Entry]>([:])
        /// Gatherings given up on: a scheduler did not read within 30 s (it failed, or runs on another instant).
        let abandoned = Mutex(0)

        init(parties: Int, timeline: VirtualTimeline) {
            self.parties = parties
            self.timeline = timeline
        }

        /// Returns once `parties` reads of `task` came at the timeline's current instant, or 30 s after the first.
        func arrive(_ task: String) async {
            let key = "\(task)@\(timeline.now.timeIntervalSince1970)"
            await withCheckedContinuation { (reader: CheckedContinuation<Void, Never>) in
                let released = waiting.withLock { waiting -> [CheckedContinuation<Void, Never>] in
                    guard var entry = waiting[key] else {
                        let limit = Task { [self] in
                            guard (try? await Task.sleep(for: .seconds(30))) != nil else { return }
                            abandon(key)
                        }
                        waiting[key] = ([reader], limit)
                        return parties == 1 ? release(key, from: &waiting) : []
                    }
                    entry.readers.append(reader)
                    waiting[key] = entry
                    return entry.readers.count >= parties ? release(key, from: &waiting) : []
                }
                released.forEach { $0.resume() }
            }
        }

        private func release(_ key: String, from waiting: inout [String: Entry]) -> [CheckedContinuation<Void, Never>] {
            guard let entry = waiting.removeValue(forKey: key) else { return [] }
            entry.limit.cancel()
            return entry.readers
        }

        private func abandon(_ key: String) {
            let released = waiting.withLock { release(key, from: &$0) }
            if !released.isEmpty { abandoned.withLock { $0 += 1 } }
            released.forEach { $0.resume() }
        }
    }

    let store: RedisLastTickStore
    let gathering: Gathering

    func lastTick(of task: ScheduledTask) async throws -> Date? { try await store.lastTick(of: task) }

    /// The history as read before the others may have stored anything: every reader's read comes before the gathering
    /// lets any go on (a failed read too, so the others are not kept waiting for it).
    func history(of task: ScheduledTask) async throws -> TickHistory {
        let read: Result<TickHistory, any Error>
        do { read = .success(try await store.history(of: task)) } catch { read = .failure(error) }
        await gathering.arrive(task.name)
        return try read.get()
    }

    func advanceLastTick(of task: ScheduledTask, to tick: Date) async throws {
        try await store.advanceLastTick(of: task, to: tick)
    }

    func advanceLastTick(of task: ScheduledTask, to tick: Date, whileExists key: String) async throws -> Bool {
        try await store.advanceLastTick(of: task, to: tick, whileExists: key)
    }
}

/// A store for tests without Redis: every task last ran at `last`, and nothing is remembered.
struct RanAtStore: LastTickStore {
    let last: Date
    func lastTick(of task: ScheduledTask) async throws -> Date? { last }
    func advanceLastTick(of task: ScheduledTask, to tick: Date) async throws {}
}

/// A store for tests without Redis: every task has never run, and nothing is remembered.
struct NeverRunStore: LastTickStore {
    func lastTick(of task: ScheduledTask) async throws -> Date? { nil }
    func advanceLastTick(of task: ScheduledTask, to tick: Date) async throws {}
}

/// A sink whose enqueue always fails, as when Redis is unreachable.
struct RefusingSink: ScheduledJobSink {
    struct Unreachable: Error {}
    func enqueueTick(task: ScheduledTask, tick: Date) async throws -> TickEnqueue { throw Unreachable() }
}

/// A clock stopped at one instant, for a single `runOnce`.
struct FixedClock: SchedulerClock {
    let instant: Date
    init(_ instant: Date) { self.instant = instant }
    func now() -> Date { instant }
    func sleep(until deadline: Date) async throws {}
}
