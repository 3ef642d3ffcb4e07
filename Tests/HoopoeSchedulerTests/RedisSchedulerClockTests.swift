import Foundation
import HoopoeCore
import HoopoeScheduler
import Redis
import Synchronization
import TestSupport
import Testing

/// A scheduler plans by Redis's clock (decision 0083). Until it has read it once, it plans nothing: it fell back to the
/// host's clock without a word, so an ACL without `+time` (or a first read that failed) let a host clock ahead enqueue
/// ticks early.
@Suite struct RedisSchedulerClockTests {
    @Test func aSchedulerThatCannotReadRedissClockPlansNothingAndSaysSo() async throws {
        let server = try RedisServer()
        let redis = try RedisClient(url: server.url)
        defer { redis.close() }
        // The clock's reads fail (its server is gone); the store and the enqueues work.
        let gone = try RedisServer()
        gone.stop()
        let unreadable = try RedisClient(url: gone.url)
        defer { unreadable.close() }
        let namespace = "clock-test"
        let jobs = JobQueue(redis: redis, namespace: namespace)
        let task = try #require(try ScheduleFile(yaml: """
            tasks:
              - name: minutely
                cron: "* * * * *"
                type: diag.record
                catch_up: once
                payload: {key: k, member: m}
            """).tasks.first)
        // Its last tick two and a half minutes ago: a missed tick is due.
        let store = RedisLastTickStore(redis: redis, prefix: namespace)
        _ = try await redis.send("SET", store.key(for: task), String(Int(Date().timeIntervalSince1970) - 150))
        let events = Mutex<[String]>([])
        func scheduler(clock: RedisClient) -> JobScheduler {
            JobScheduler(
                tasks: [task], lastTicks: store, sink: JobQueueTickSink(jobs: jobs), clock: RedisSchedulerClock(redis: clock),
                options: JobSchedulerOptions(retryDelay: 5)
            ) { event in
                if case .clockUnavailable(let error) = event { events.withLock { $0.append("\(error)") } }
            }
        }
        let wake = await scheduler(clock: unreadable).runOnce()
        let reported = events.withLock { $0 }
        #expect(reported.count == 1 && reported.allSatisfy { $0.contains("TIME") }, "\(reported)")
        #expect(try await redis.send("XLEN", jobs.keys("default").stream).int ?? 0 == 0, "nothing planned on the host's clock")
        let wait = wake.timeIntervalSinceNow
        #expect(wait > 1 && wait < 6, "tried again after the retry delay (5 s): \(wait) s")

        // A scheduler that reads Redis's clock enqueues the missed tick.
        _ = await scheduler(clock: redis).runOnce()
        #expect(try await redis.send("XLEN", jobs.keys("default").stream).int == 1)
    }
}
