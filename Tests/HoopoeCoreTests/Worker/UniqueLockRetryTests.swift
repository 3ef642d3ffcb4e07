import Foundation
import HoopoeJSON
import Redis
import TestSupport
import Testing

@testable import HoopoeCore

/// A unique key is held while its job is pending or running: a retry due days later keeps the lock past it (the
/// enqueue gave it a day past the first run), so a second enqueue with the key is still refused.
@Suite struct UniqueLockRetryTests {
    /// Fails every run with a retry three days later.
    struct FailsForDays: JobHandler {
        struct Payload: Codable, Sendable {}
        static let type = "test.fails_for_days"
        func run(_ payload: Payload, context: JobContext) async throws {
            throw JobFailure.retry("not yet", at: Date().timeIntervalSince1970 + 3 * 86_400)
        }
    }

    @Test func aRetryKeepsTheUniqueLockUntilADayAfterItIsDue() async throws {
        let h = try EngineHarness()
        var registry = JobRegistry.diagnostic
        registry.register(FailsForDays())
        let held = try #require(try await h.jobs.enqueue(type: FailsForDays.type, payload: .object([:]), options: EnqueueOptions(uniqueKey: "order-7")).createdID)
        // A window the enqueuer chose is kept as it is.
        let windowed = try #require(try await h.jobs.enqueue(
            type: FailsForDays.type, payload: .object([:]), options: EnqueueOptions(uniqueKey: "window", uniqueFor: .seconds(600))).createdID)
        let keys = h.jobs.keys("default")
        // TTL answers -2 for a missing key and -1 for one that never expires: neither is a lock held for a day.
        let firstTTL = try await h.redis.send("TTL", keys.unique("order-7")).int ?? -3
        #expect((86_400 - 120...86_400).contains(firstTTL), "a day past the first run: \(firstTTL) s")
        #expect(try await h.redis.send("GET", keys.unique("order-7")).string == held)
        let windowTTL = try await h.redis.send("TTL", keys.unique("window")).int ?? -3
        #expect((600 - 120...600).contains(windowTTL), "the enqueuer's 600 s window: \(windowTTL) s")
        #expect(try await h.redis.send("GET", keys.unique("window")).string == windowed)
        let (worker, task) = h.startWorker(registry)
        #expect(try await h.eventually { try await h.jobs.info(queue: "default").scheduled == 2 })
        worker.shutdown()
        try await task.value

        let ttl = try await h.redis.send("TTL", keys.unique("order-7")).int ?? 0
        #expect(ttl > 4 * 86_400 - 120 && ttl <= 4 * 86_400, "a day past the retry: \(ttl) s")
        #expect(try await h.redis.send("GET", keys.unique("order-7")).string == held)
        // Kept as it is: not stretched to the retry's days, not dropped (-2) nor left without an expiry (-1).
        let keptTTL = try await h.redis.send("TTL", keys.unique("window")).int ?? -3
        #expect((1...600).contains(keptTTL), "the window the enqueuer chose, kept: \(keptTTL) s")
        #expect(try await h.redis.send("GET", keys.unique("window")).string == windowed, "still held by its job")
        let again = try await h.jobs.enqueue(type: FailsForDays.type, payload: .object([:]), options: EnqueueOptions(uniqueKey: "order-7"))
        #expect(again.createdID == nil, "still refused while the retry waits")
    }

    /// A dead job retried from the dead set takes its unique lock again (its lock went when it died), so a duplicate
    /// is refused while it waits; while another job holds the key (enqueued since), the retry is refused and the job
    /// stays dead: before, both ran, which the key is there to prevent.
    @Test func aDeadJobRetriedTakesItsUniqueLockAgain() async throws {
        let h = try EngineHarness()
        let keys = h.jobs.keys("default")
        for (id, key) in [("D9", "order-9"), ("D10", "order-10")] {
            var envelope = JobEnvelope(id: id, type: "diag.record", queue: "default", payload: .object([:]), attempt: 25, uniqueKey: key)
            envelope.deadReason = "failed 25 of 25 attempts"
            envelope.diedAt = Date().timeIntervalSince1970
            var hset = RedisCommand("HSET", keys.deadJobs, id)
            hset.append(bytes: envelope.encoded())
            _ = try await h.redis.pipeline([RedisCommand("ZADD", keys.dead, String(envelope.diedAt ?? 0), id), hset])
        }
        #expect(try await h.jobs.retryDead(id: "D9", queue: "default"))
        #expect(try await h.redis.send("GET", keys.unique("order-9")).string == "D9")
        let ttl = try await h.redis.send("TTL", keys.unique("order-9")).int ?? 0
        #expect(ttl > 86_300 && ttl <= 86_400, "\(ttl) s")
        let again = try await h.jobs.enqueue(type: "diag.record", payload: .object([:]), options: EnqueueOptions(uniqueKey: "order-9"))
        #expect(again.createdID == nil, "refused while the retried job waits")

        try await h.redis.send("SET", keys.unique("order-10"), "other", "EX", "100")
        #expect(try await h.jobs.retryDead(ids: ["D10"], queue: "default") == .init(done: 0, skipped: 1))
        do {
            _ = try await h.jobs.retryDead(id: "D10", queue: "default")
            Issue.record("retried while another job holds its unique key")
        } catch let error as EnqueueError {
            #expect(error.message.contains("held by job other"), "\(error.message)")
        }
        #expect(try await h.redis.send("GET", keys.unique("order-10")).string == "other")
        #expect(try await h.redis.send("ZSCORE", keys.dead, "D10").string != nil, "still dead")
        #expect(try await h.jobs.info(queue: "default").ready == 1, "only D9 went back")
        // Once the other job is done (its lock gone), the retry goes through.
        try await h.redis.send("DEL", keys.unique("order-10"))
        #expect(try await h.jobs.retryDead(id: "D10", queue: "default"))
    }
}
