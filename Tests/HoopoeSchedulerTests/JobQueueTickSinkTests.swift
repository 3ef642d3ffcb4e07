import Foundation
import HoopoeCore
import HoopoeScheduler
import HoopoeJSON
import Redis
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
}
