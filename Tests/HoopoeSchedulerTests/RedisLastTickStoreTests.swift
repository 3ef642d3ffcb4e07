import Foundation
import HoopoeCore
import HoopoeScheduler
import Redis
import TestSupport
import Testing

/// Where a task's last tick lives: in its queue's slot, with the key of earlier releases read and then replaced.
@Suite struct RedisLastTickStoreTests {
    static func task(_ name: String, queue: String) -> ScheduledTask {
        ScheduledTask(name: name, cron: try! CronExpression("* * * * *"), timeZone: TimeZone(identifier: "UTC")!, type: "diag.record", queue: queue)
    }

    @Test func aTasksLastTickLiesInItsQueuesSlot() throws {
        let redis = try RedisClient(url: "redis://127.0.0.1:1")
        defer { redis.close() }
        let store = RedisLastTickStore(redis: redis, prefix: "hoopoe")
        var legacySlots: Set<Int> = []
        for queue in ["default", "sms", "critical"] {
            let task = Self.task("report.daily", queue: queue)
            #expect(HashSlot.of(store.key(for: task)) == HashSlot.of(QueueKeys(queue: queue, namespace: "hoopoe").stream), "\(queue)")
            #expect(store.key(for: task) == "hoopoe:{\(queue)}:schedule:report.daily:last")
            legacySlots.insert(HashSlot.of(store.legacyKey(for: task)))
        }
        // The key of earlier releases named no queue: one slot, whichever queue the task's jobs went to.
        #expect(legacySlots.count == 1)
    }

    @Test func aKeyOfAnEarlierReleaseIsReadUntilTheTasksKeyIsWrittenThenDeleted() async throws {
        let h = try TestNamespace(#function)
        let store = RedisLastTickStore(redis: h.redis, prefix: h.namespace)
        let task = Self.task("report.daily", queue: "default")
        try await h.redis.send("SET", store.legacyKey(for: task), "1000")
        #expect(try await store.lastTick(of: task) == Date(timeIntervalSince1970: 1000))
        try await store.advanceLastTick(of: task, to: Date(timeIntervalSince1970: 1060))
        #expect(try await h.redis.send("GET", store.key(for: task)).string == "1060")
        #expect(try await h.redis.send("EXISTS", store.legacyKey(for: task)).int == 0)
        #expect(try await store.lastTick(of: task) == Date(timeIntervalSince1970: 1060))
        // An earlier release still running (a rolling upgrade) writes its key again: the task's key wins, and the next
        // advance leaves the other alone (it deletes only when it creates the task's key).
        try await h.redis.send("SET", store.legacyKey(for: task), "5000")
        #expect(try await store.lastTick(of: task) == Date(timeIntervalSince1970: 1060))
        try await store.advanceLastTick(of: task, to: Date(timeIntervalSince1970: 1120))
        #expect(try await h.redis.send("GET", store.legacyKey(for: task)).string == "5000")
    }

    @Test func aSchedulerCatchesUpFromTheHistoryAnEarlierReleaseKept() async throws {
        // An hourly task last handled at 06:00 by an earlier release; a scheduler of this one starts at 09:30:20 and
        // reads that history: `catch_up: once` enqueues the 09:00 tick (a task it took for new would enqueue nothing).
        let h = try TestNamespace(#function)
        let prefix = h.namespace
        let hourly = ScheduledTask(
            name: "hourly", cron: try CronExpression("0 * * * *"), timeZone: TimeZone(identifier: "UTC")!, type: "diag.record", catchUp: .once)
        let store = RedisLastTickStore(redis: h.redis, prefix: prefix)
        let six = SchedulerTestTime.date("2025-06-01T06:00:00Z")!
        try await h.redis.send("SET", store.legacyKey(for: hourly), String(Int64(six.timeIntervalSince1970)))
        let sink = RedisTestSink(redis: h.redis, prefix: prefix)
        let timeline = VirtualTimeline(start: SchedulerTestTime.date("2025-06-01T09:30:20Z")!, end: SchedulerTestTime.date("2025-06-01T09:30:30Z")!)
        timeline.join()
        await JobScheduler(tasks: [hourly], lastTicks: store, sink: sink, clock: VirtualClock(timeline: timeline, skew: 0)).run()
        timeline.leave()
        #expect(try await sink.enqueued() == ["hourly@\(Int64(SchedulerTestTime.date("2025-06-01T09:00:00Z")!.timeIntervalSince1970))"])
        #expect(try await h.redis.send("EXISTS", store.legacyKey(for: hourly)).int == 0)
    }
}

/// The scheduler on a real three-primary cluster: each task's last tick is written on the node of its queue.
@Suite(.serialized) struct ClusterSchedulerTests {
    @Test func eachTasksLastTickIsWrittenOnTheNodeOfItsQueue() async throws {
        let servers = try ClusterServers.shared()
        let redis = try RedisClient(url: servers.url)
        defer { redis.close() }
        let namespace = TestRedis.uniquePrefix("cluster-schedule")
        let jobs = JobQueue(redis: redis, namespace: namespace)
        let queues = try (0..<3).map { try servers.tag(onNode: $0, prefix: "s") }
        let tasks = queues.map { Self.task("every.minute.\($0)", queue: $0) }
        let start = SchedulerTestTime.date("2025-06-01T10:00:20Z")!
        let timeline = VirtualTimeline(start: start, end: start.addingTimeInterval(185))
        timeline.join()
        let store = RedisLastTickStore(redis: redis, prefix: namespace)
        await JobScheduler(tasks: tasks, lastTicks: store, sink: JobQueueTickSink(jobs: jobs), clock: VirtualClock(timeline: timeline, skew: 0)).run()
        timeline.leave()
        for (index, task) in tasks.enumerated() {
            // Three minutes: the ticks of 10:01, 10:02 and 10:03 in the queue's stream, and the last tick beside them.
            #expect(try await redis.send("XLEN", jobs.keys(task.queue).stream).int == 3, "\(task.name)")
            #expect(try await redis.send("GET", store.key(for: task)).string == String(Int64(start.timeIntervalSince1970) + 160), "\(task.name)")
            #expect(try servers.owner(ofSlot: HashSlot.of(store.key(for: task))) == index)
            // The schedule beside it, and the task's queue recorded in the task's own slot (the advance's round trip spans both).
            #expect(try await redis.send("GET", store.scheduleKey(for: task)).string == task.scheduleFingerprint, "\(task.name)")
            #expect(try await redis.send("GET", store.queueRecordKey(for: task)).string == task.queue, "\(task.name)")
        }
    }

    static func task(_ name: String, queue: String) -> ScheduledTask {
        RedisLastTickStoreTests.task(name, queue: queue)
    }
}
