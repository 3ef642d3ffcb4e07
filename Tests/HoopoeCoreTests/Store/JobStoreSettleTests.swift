import Foundation
import Redis
import TestSupport
import Testing

@testable import HoopoeCore

/// The reschedule script behind both a retry and an early arrival (``JobStore/retry`` and ``JobStore/deferEarly``).
@Suite struct JobStoreSettleTests {
    /// A job delivered to a consumer: the entry a retry or a deferral must remove.
    private func delivered(_ space: TestNamespace, id: String) async throws -> (FetchedJob, [UInt8]) {
        let store = space.jobs.store
        try await store.createGroups(queues: ["default"])
        let envelope = JobEnvelope(id: id, type: "test.settle").encoded()
        var xadd = RedisCommand("XADD", store.keys("default").stream, "*", "job")
        xadd.append(bytes: envelope)
        try await space.redis.send(xadd)
        let connection = store.makeFetchConnection()
        defer { connection.close() }
        let fetched = try await store.fetch(on: connection, consumer: "c1", count: 1, block: .milliseconds(100), queues: ["default"])
        return (try #require(fetched.first), envelope)
    }

    @Test func aRetrySchedulesTheNextAttemptRemovesTheDeliveryAndCountsFailedAndRetriedPerType() async throws {
        let space = try TestNamespace()
        let store = space.jobs.store
        let (job, envelope) = try await delivered(space, id: "r-1")
        let due = Date().timeIntervalSince1970 + 3600
        try await store.retry(queue: "default", entryID: job.entryID, jobID: "r-1", envelope: envelope, due: due, type: "test.settle")
        let k = store.keys("default")
        #expect(try await space.redis.send("ZSCORE", k.scheduled, "r-1").string.flatMap(Double.init) == due)
        #expect(try await space.redis.send("HGET", k.scheduledJobs, "r-1").bytes == envelope)
        #expect(try await space.redis.send("XLEN", k.stream).int == 0)
        #expect(try await space.redis.send("XPENDING", k.stream, QueueKeys.group).array?.first?.int == 0)
        let counters = try await space.jobs.counters(queue: "default")
        #expect(counters == ["failed": 1, "failed:test.settle": 1, "retried": 1, "retried:test.settle": 1])
        #expect(try await space.redis.send("TTL", k.stats(on: Date())).int ?? 0 > 86_400 * 89)
    }

    @Test func anEarlyJobIsDeferredToItsRunAtAndCountedEarly() async throws {
        let space = try TestNamespace()
        let store = space.jobs.store
        let (job, envelope) = try await delivered(space, id: "e-1")
        let runAt = Date().timeIntervalSince1970 + 600
        #expect(try await store.deferEarly(queue: "default", entryID: job.entryID, jobID: "e-1", envelope: envelope, runAt: runAt, type: "test.settle"))
        #expect(try await space.redis.send("ZSCORE", store.keys("default").scheduled, "e-1").string.flatMap(Double.init) == runAt)
        #expect(try await space.redis.send("XLEN", store.keys("default").stream).int == 0)
        #expect(try await space.jobs.counters(queue: "default") == ["early": 1, "early:test.settle": 1])
    }

    /// By Redis's clock the job is due (this worker's clock ran ahead): nothing moves, nothing is counted, and the
    /// caller runs it now.
    @Test func aJobDueByRedisClockIsLeftAlone() async throws {
        let space = try TestNamespace()
        let store = space.jobs.store
        let (job, envelope) = try await delivered(space, id: "e-2")
        let past = Date().timeIntervalSince1970 - 5
        #expect(try await store.deferEarly(queue: "default", entryID: job.entryID, jobID: "e-2", envelope: envelope, runAt: past, type: "test.settle") == false)
        #expect(try await space.redis.send("ZCARD", store.keys("default").scheduled).int == 0)
        #expect(try await space.redis.send("XPENDING", store.keys("default").stream, QueueKeys.group).array?.first?.int == 1, "still delivered")
        #expect(try await space.jobs.counters(queue: "default").isEmpty)
    }
}
