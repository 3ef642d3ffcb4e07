import Foundation
import HoopoeCore
@testable import HoopoeScheduler
import HoopoeJSON
import Redis
import Synchronization
import TestSupport
import Testing

/// The scheduler through the real engine: three schedulers, one Redis, every tick one job in the stream.
@Suite struct JobQueueTickSinkTests {
    @Test func threeSchedulersEnqueueEachTickOnceThroughTheEngine() async throws {
        let h = try TestNamespace(#function)
        let file = try ScheduleFile(yaml: """
            tasks:
              - name: every5
                cron: "*/5 * * * *"
                type: diag.record
                payload: {key: k, member: m}
            """)
        let start = Date(timeIntervalSince1970: 1_795_400_100)  // a fixed instant on a 5-minute boundary
        let end = start.addingTimeInterval(3 * 3600)
        let timeline = VirtualTimeline(start: start, end: end)
        await withTaskGroup(of: Void.self) { group in
            for skew in [0.0, 0.0, 0.7] {
                timeline.join()
                let scheduler = JobScheduler(
                    tasks: file.tasks, lastTicks: RedisLastTickStore(redis: h.redis, prefix: h.namespace), sink: JobQueueTickSink(jobs: h.jobs),
                    clock: VirtualClock(timeline: timeline, skew: skew))
                group.addTask {
                    await scheduler.run()
                    timeline.leave()
                }
            }
        }
        let entries = try await h.redis.send("XRANGE", h.jobs.keys("default").stream, "-", "+").array ?? []
        let envelopes = try entries.map { try JobEnvelope.decode($0.array![1].array![1].bytes!) }
        let ticks = envelopes.compactMap { $0.payload["tick"]?.int64Value }
        // The start is on a 5-minute boundary, so the ticks are start, start + 5 min, ..., start + 3 h.
        let first: Int64 = 1_795_400_100
        let expected: [Int64] = (0...36).map { first + Int64($0) * 300 }
        #expect(ticks.sorted() == expected.sorted(), "one job per tick, none twice")
        #expect(Set(ticks).count == ticks.count)
        #expect(envelopes.allSatisfy { $0.type == "diag.record" && $0.payload["key"] == .string("k") && $0.payload["member"] == .string("m") })
    }

    /// A Sentinel failover that switches the scheduler's connections between a tick's enqueue (taken by the old primary,
    /// then lost with it) and the advance of its last tick (on the new primary) stored the tick as handled with no job:
    /// the run lost for good. The advance checks the tick's once-key, and the tick is enqueued again.
    @Test func aTickWhoseEnqueueWasLostIsEnqueuedAgain() async throws {
        let h = try TestNamespace(#function)
        let file = try ScheduleFile(yaml: """
            tasks:
              - name: every5
                cron: "*/5 * * * *"
                type: diag.record
                payload: {key: k, member: m}
            """)
        let start = Date(timeIntervalSince1970: 1_795_400_100)
        let timeline = VirtualTimeline(start: start, end: start.addingTimeInterval(1800))
        let sink = LosingSink(real: JobQueueTickSink(jobs: h.jobs), jobs: h.jobs, redis: h.redis, lose: 1_795_400_400)
        timeline.join()
        let scheduler = JobScheduler(
            tasks: file.tasks, lastTicks: RedisLastTickStore(redis: h.redis, prefix: h.namespace), sink: sink,
            clock: VirtualClock(timeline: timeline, skew: 0))
        await scheduler.run()
        timeline.leave()
        #expect(sink.lost.withLock { $0 } == 1, "the tick's first enqueue was lost")
        let entries = try await h.redis.send("XRANGE", h.jobs.keys("default").stream, "-", "+").array ?? []
        let ticks = try entries.compactMap { try JobEnvelope.decode($0.array![1].array![1].bytes!).payload["tick"]?.int64Value }
        #expect(ticks.sorted() == (0...6).map { 1_795_400_100 + Int64($0) * 300 }, "every tick once, the lost one too")
    }

    /// The shipped canary names a Redis key: under `HOOPOE_NAMESPACE=acme` with an ACL limited to `acme:*` (as
    /// docs/operating.md advises) a fixed `hoopoe:diag:scheduler` failed every minute. The token keeps it inside.
    @Test func theShippedCanarysKeyIsInsideTheSchedulersNamespace() async throws {
        let h = try TestNamespace(#function)
        let shipped = try ScheduleFile(yaml: String(contentsOfFile: BuiltProducts.projectRoot.appendingPathComponent(ScheduleFile.defaultPath).path, encoding: .utf8))
        let canary = try #require(shipped.tasks.first { $0.name == "diag.scheduler_canary" })
        let result = try await JobQueueTickSink(jobs: h.jobs).enqueueTick(task: canary, tick: Date(timeIntervalSince1970: 1_795_400_100))
        #expect(result.added)
        let entries = try await h.redis.send("XRANGE", h.jobs.keys(result.queue).stream, "-", "+").array ?? []
        let envelope = try JobEnvelope.decode(try #require(entries.first?.array?[1].array?[1].bytes))
        #expect(envelope.payload["key"] == .string("\(h.namespace):diag:scheduler"), "\(envelope.payload)")
        #expect(ScheduledTask.expandingNamespace(["a": ["${HOOPOE_NAMESPACE}", "x${HOOPOE_NAMESPACE}y"], "n": 1], "ns") == ["a": ["ns", "xnsy"], "n": 1])
    }

    /// A tick's once-key and claim live a day past the task's next tick: until then a scheduler reading a stale last
    /// tick plans exactly this tick again. A weekly task moved to another queue and moved back after more than a day
    /// (a rollback) found its old queue's last tick a week behind, and with 24-hour keys enqueued Monday's tick twice.
    @Test func aTicksKeysOutliveTheNextTickByADay() async throws {
        let h = try TestNamespace(#function)
        func task(_ queue: String) throws -> ScheduledTask {
            try #require(try ScheduleFile(yaml: """
                tasks:
                  - name: weekly
                    cron: "0 9 * * MON"
                    type: diag.record
                    queue: \(queue)
                    payload: {key: k, member: m}
                """).tasks.first)
        }
        let monday = try #require(SchedulerTestTime.date("2025-06-02T09:00:00+03:30"))
        let sink = JobQueueTickSink(jobs: h.jobs)
        #expect(try await sink.enqueueTick(task: try task("q2"), tick: monday).added)
        let seconds = Int64(monday.timeIntervalSince1970)
        let week = 7 * 86_400
        for key in [h.jobs.global.scheduleTickClaim(task: "weekly", tick: seconds), "\(h.namespace):{q2}:once:schedule:weekly:\(seconds)"] {
            let ttl = try await h.redis.send("TTL", key).int ?? -2
            #expect((week + 86_400 - 60...week + 86_400).contains(ttl), "\(key) lives a week and a day: \(ttl) s")
        }
        // Wednesday, the rollback's scheduler (its file names q1) plans Monday's tick from q1's stale last tick: the
        // claim sends it to q2, where the once-key refuses it.
        let again = try await sink.enqueueTick(task: try task("q1"), tick: monday)
        #expect(!again.added && again.queue == "q2")
        #expect(try await h.jobs.info(queue: "q1").ready == 0)
        #expect(try await h.jobs.info(queue: "q2").ready == 1)
    }

    /// A rolling restart that moves a task to another queue runs the old file and the new one side by side: each tick
    /// still becomes one job, in the queue of whichever scheduler claimed it first, and a scheduler that did not get
    /// its own queue says so.
    ///
    /// Both files have run before (each queue's slot holds the task's history), so each file's schedulers plan every
    /// tick from their own and the file that claims second is told, at every tick. Without the new file's history its
    /// schedulers read the old file's (a moved history) and, when the old file stored a tick before they read it, plan
    /// nothing for it: whether any was told then depended on the race (CI once saw none in 25 ticks).
    @Test func schedulersWhoseFilesNameDifferentQueuesEnqueueEachTickOnce() async throws {
        let h = try TestNamespace(#function)
        func file(queue: String) throws -> ScheduleFile {
            try ScheduleFile(yaml: """
                tasks:
                  - name: every5
                    cron: "*/5 * * * *"
                    type: diag.record
                    queue: \(queue)
                    payload: {key: k, member: m}
                """)
        }
        let start = Date(timeIntervalSince1970: 1_795_400_100)  // on a 5-minute boundary
        let timeline = VirtualTimeline(start: start, end: start.addingTimeInterval(2 * 3600))
        let store = RedisLastTickStore(redis: h.redis, prefix: h.namespace)
        for queue in ["default", "moved"] {
            try await store.advanceLastTick(of: file(queue: queue).tasks[0], to: start.addingTimeInterval(-300))
        }
        let otherQueue = Mutex<[(report: String, tick: Int64)]>([])
        await withTaskGroup(of: Void.self) { group in
            for (queue, skew) in [("default", 0.0), ("moved", 0.0), ("default", 0.4), ("moved", 0.7)] {
                timeline.join()
                let scheduler = JobScheduler(
                    tasks: try! file(queue: queue).tasks, lastTicks: RedisLastTickStore(redis: h.redis, prefix: h.namespace),
                    sink: JobQueueTickSink(jobs: h.jobs), clock: VirtualClock(timeline: timeline, skew: skew)
                ) { event in
                    if case .claimedForAnotherQueue(_, let tick, let claimed, let own) = event {
                        otherQueue.withLock { $0.append(("\(own)->\(claimed)", Int64(tick.timeIntervalSince1970))) }
                    }
                }
                group.addTask {
                    await scheduler.run()
                    timeline.leave()
                }
            }
        }
        var ticks: [Int64] = []
        var perQueue: [String: Int] = [:]
        for queue in ["default", "moved"] {
            let entries = try await h.redis.send("XRANGE", h.jobs.keys(queue).stream, "-", "+").array ?? []
            let found = try entries.map { try JobEnvelope.decode($0.array![1].array![1].bytes!) }.compactMap { $0.payload["tick"]?.int64Value }
            perQueue[queue] = found.count
            ticks += found
        }
        let expected: [Int64] = (0...24).map { 1_795_400_100 + Int64($0) * 300 }
        #expect(ticks.sorted() == expected, "one job per tick across both queues, none twice: \(perQueue)")
        // Both files' schedulers ran every tick: at each, the one that lost the claim to the other file's queue said so.
        let reports = otherQueue.withLock { $0 }
        #expect(Set(reports.map(\.tick)) == Set(expected), "every tick told to the file that claimed it second")
        #expect(Set(reports.map(\.report)).isSubset(of: ["default->moved", "moved->default"]), "\(reports.map(\.report))")
    }

    /// A scheduler that claimed a tick and stopped before enqueuing it (or whose enqueue was lost) leaves the claim: the
    /// next scheduler to plan the tick enqueues it to the claimed queue. A claim that names no valid queue is ignored.
    @Test func aTickClaimedBeforeGoesToTheClaimedQueue() async throws {
        let h = try TestNamespace(#function)
        let task = try ScheduleFile(yaml: """
            tasks:
              - name: nightly
                cron: "0 3 * * *"
                type: diag.record
                queue: new
                payload: {key: k, member: m}
            """).tasks[0]
        let sink = JobQueueTickSink(jobs: h.jobs)
        let tick = Date(timeIntervalSince1970: 1_795_400_000)
        let claim = h.jobs.global.scheduleTickClaim(task: "nightly", tick: 1_795_400_000)
        _ = try await h.redis.send("SET", claim, "old", "EX", "600")

        #expect(try await sink.enqueueTick(task: task, tick: tick) == TickEnqueue(added: true, queue: "old", proof: h.jobs.keys("old").once("schedule:nightly:1795400000")))
        #expect(try await sink.enqueueTick(task: task, tick: tick) == TickEnqueue(added: false, queue: "old", proof: h.jobs.keys("old").once("schedule:nightly:1795400000")))
        #expect(try await h.redis.send("XLEN", h.jobs.keys("old").stream).int == 1)
        #expect(try await h.redis.send("XLEN", h.jobs.keys("new").stream).int == 0)
        let lifetime = try await h.redis.send("TTL", claim).int ?? -2
        #expect(lifetime > 0 && lifetime <= 600, "the claim keeps its expiry: \(lifetime)")

        // Unclaimed: this task's queue, and the claim expires with the once-key (24 h past the task's next tick).
        let next = tick.addingTimeInterval(86_400)
        #expect(try await sink.enqueueTick(task: task, tick: next) == TickEnqueue(added: true, queue: "new", proof: h.jobs.keys("new").once("schedule:nightly:1795486400")))
        let nextClaim = h.jobs.global.scheduleTickClaim(task: "nightly", tick: 1_795_486_400)
        #expect(try await h.redis.send("GET", nextClaim).string == "new")
        let ttl = try await h.redis.send("TTL", nextClaim).int ?? -2
        let untilNextTick = Int(try #require(task.nextTick(after: next)).timeIntervalSince(next).rounded(.up))
        #expect(ttl > 86_000 + untilNextTick && ttl <= 86_400 + untilNextTick, "\(ttl)")

        // A claim no schedule file could have written (a queue name with a space) is not followed.
        let third = next.addingTimeInterval(86_400)
        _ = try await h.redis.send("SET", h.jobs.global.scheduleTickClaim(task: "nightly", tick: 1_795_572_800), "no such queue")
        #expect(try await sink.enqueueTick(task: task, tick: third) == TickEnqueue(added: true, queue: "new", proof: h.jobs.keys("new").once("schedule:nightly:1795572800")))
        #expect(try await h.redis.send("XLEN", h.jobs.keys("new").stream).int == 2)
    }
}

/// The engine's sink, but the first enqueue of tick `lose` is lost after its reply, as a failover loses the old
/// primary's last writes: its stream entry and its once-key are gone.
private final class LosingSink: ScheduledJobSink, Sendable {
    let real: JobQueueTickSink
    let jobs: JobQueue
    let redis: RedisClient
    let lose: Int64
    let lost = Mutex(0)

    init(real: JobQueueTickSink, jobs: JobQueue, redis: RedisClient, lose: Int64) {
        self.real = real
        self.jobs = jobs
        self.redis = redis
        self.lose = lose
    }

    func enqueueTick(task: ScheduledTask, tick: Date) async throws -> TickEnqueue {
        let outcome = try await real.enqueueTick(task: task, tick: tick)
        let seconds = Int64(tick.timeIntervalSince1970)
        guard seconds == lose, lost.withLock({ $0 }) == 0 else { return outcome }
        lost.withLock { $0 += 1 }
        let keys = jobs.keys(outcome.queue)
        for entry in try await redis.send("XRANGE", keys.stream, "-", "+").array ?? [] {
            if try JobEnvelope.decode(entry.array![1].array![1].bytes!).payload["tick"]?.int64Value == seconds {
                _ = try await redis.send("XDEL", keys.stream, entry.array![0].string!)
            }
        }
        _ = try await redis.send("DEL", try #require(outcome.proof))
        return outcome
    }
}
