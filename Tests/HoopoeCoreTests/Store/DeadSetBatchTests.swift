import Foundation
import HoopoeJSON
import Redis
import TestSupport
import Testing

@testable import HoopoeCore

/// The dead set's batched verbs (a bulk retry or delete a batch at a time): the same outcome as one job at a time.
@Suite struct DeadSetBatchTests {
    /// Writes a dead job as the worker does (envelope text in `dead:jobs`, id in `dead` scored by its death).
    private func bury(_ jobs: JobQueue, _ redis: RedisClient, id: String, text: String, diedAt: Double) async throws {
        let keys = jobs.keys("default")
        _ = try await redis.pipeline([RedisCommand("ZADD", keys.dead, String(diedAt), id), RedisCommand("HSET", keys.deadJobs, id, text)])
    }

    private func envelope(_ id: String, diedAt: Double) -> String {
        var envelope = JobEnvelope(id: id, type: "diag.record", queue: "default", enqueuedAt: diedAt - 60)
        envelope.attempt = 3
        envelope.deadReason = "boom"
        envelope.diedAt = diedAt
        return String(decoding: envelope.encoded(), as: UTF8.self)
    }

    /// Two retries of one death: the first moves it, the job runs and dies again before the second moves its copy.
    /// The second moves nothing and the new death stays, reason and all. Before, the second sent the first death's
    /// envelope back to run once more and erased the second death.
    @Test func aRetryOfADeathSinceReplacedMovesNothing() async throws {
        let redis = try TestRedis.client()
        let jobs = JobQueue(redis: redis, namespace: TestRedis.uniquePrefix())
        let now = Date().timeIntervalSince1970
        try await bury(jobs, redis, id: "d", text: envelope("d", diedAt: now - 10), diedAt: now - 10)
        let first = try #require(try await jobs.store.deadJobBytes(id: "d", queue: "default"))
        let second = envelope("d", diedAt: now).replacingOccurrences(of: "boom", with: "boom again")
        try await bury(jobs, redis, id: "d", text: second, diedAt: now)
        let stale = JobStore.Revival(id: "d", envelope: first, uniqueLock: nil, deadEnvelope: first)
        #expect(try await jobs.store.resurrect(stale, queue: "default") == false)
        #expect(try await jobs.store.resurrect([stale], queue: "default") == 0)
        #expect(try await redis.send("HGET", jobs.keys("default").deadJobs, "d").string == second, "the second death is kept")
        #expect(try await redis.send("XLEN", jobs.keys("default").stream).int == 0, "nothing sent back")
        #expect(try await jobs.retryDead(id: "d", queue: "default"), "a retry of the death as it is now moves it")
    }

    @Test func aBatchedRetryMovesWhatCanRunAndSkipsTheRest() async throws {
        let redis = try TestRedis.client()
        let jobs = JobQueue(redis: redis, namespace: TestRedis.uniquePrefix())
        let now = Date().timeIntervalSince1970
        try await bury(jobs, redis, id: "good", text: envelope("good", diedAt: now), diedAt: now)
        try await bury(jobs, redis, id: "kept-as-text", text: "not json", diedAt: now)
        let result = try await jobs.retryDead(ids: ["good", "kept-as-text", "gone"], queue: "default")
        #expect(result == JobQueue.DeadBatchResult(done: 1, skipped: 2))
        #expect(try await jobs.store.streamLength(queue: "default") == 1)
        #expect(try await jobs.store.deadCount(queue: "default") == 1, "the unreadable one stays dead")
        #expect(try await jobs.deadJob(id: "good", queue: "default") == nil)
    }

    /// A stream the job cannot be written to (a key of another type): the retry fails and the job stays dead, envelope
    /// and all. The script removed it from the dead set first and lost it when the `XADD` was refused (as run-now did).
    @Test func aRefusedWriteLeavesTheJobDead() async throws {
        let redis = try TestRedis.client()
        let jobs = JobQueue(redis: redis, namespace: TestRedis.uniquePrefix())
        let now = Date().timeIntervalSince1970
        try await bury(jobs, redis, id: "kept", text: envelope("kept", diedAt: now), diedAt: now)
        let keys = jobs.keys("default")
        try await redis.send("SET", keys.stream, "not a stream")
        await #expect(throws: RedisError.self) { try await jobs.retryDead(id: "kept", queue: "default") }
        #expect(try await redis.send("ZSCORE", keys.dead, "kept").string != nil)
        #expect(try await redis.send("HEXISTS", keys.deadJobs, "kept").int == 1)
    }

    @Test func aBatchedDeleteCountsWhatWasThere() async throws {
        let redis = try TestRedis.client()
        let jobs = JobQueue(redis: redis, namespace: TestRedis.uniquePrefix())
        let now = Date().timeIntervalSince1970
        for id in ["a", "b"] { try await bury(jobs, redis, id: id, text: envelope(id, diedAt: now), diedAt: now) }
        #expect(try await jobs.deleteDead(ids: ["a", "b", "c"], queue: "default") == JobQueue.DeadBatchResult(done: 2, skipped: 1))
        #expect(try await jobs.store.deadCount(queue: "default") == 0)
        #expect(try await jobs.store.deadJobBytes(ids: ["a", "b"], queue: "default").allSatisfy { $0 == nil }, "the texts go too")
    }

    @Test func theOldestFirstCursorStopsAtItsBound() async throws {
        let redis = try TestRedis.client()
        let jobs = JobQueue(redis: redis, namespace: TestRedis.uniquePrefix())
        for (index, id) in ["old", "middle", "new"].enumerated() {
            let at = 1_000_000 + Double(index)
            try await bury(jobs, redis, id: id, text: envelope(id, diedAt: at), diedAt: at)
        }
        let upToMiddle = try await jobs.store.deadEntries(queue: "default", diedUpTo: 1_000_001, after: nil, limit: 10)
        #expect(upToMiddle.map(\.id) == ["old", "middle"])
        #expect(upToMiddle.first?.envelope?.deadReason == "boom")
        let afterOld = DeadCursor(diedAt: 1_000_000, id: "old")
        #expect(try await jobs.store.deadEntries(queue: "default", diedUpTo: 2_000_000, after: afterOld, limit: 1).map(\.id) == ["middle"])
    }

    /// A walk goes on after the last job it visited, whatever left the set meanwhile: the trims remove the oldest while
    /// a bulk action runs, and a walk by offset then skipped as many jobs as they removed (a "retry all matching"
    /// retried none of 100 and said it had finished). Jobs dead at the same time come in the set's order, by id.
    @Test func aWalkByCursorSkipsNothingWhenTheFrontIsTrimmed() async throws {
        let redis = try TestRedis.client()
        let jobs = JobQueue(redis: redis, namespace: TestRedis.uniquePrefix())
        let ids = ["b1", "b2", "b3", "b4", "a1", "a2", "a3"]
        for (index, id) in ids.enumerated() {
            let at = 1_000_000 + Double(min(index, 3))  // b4, a1, a2 and a3 died at the same time: the set orders them by id
            try await bury(jobs, redis, id: id, text: envelope(id, diedAt: at), diedAt: at)
        }
        var visited: [String] = []
        var cursor: DeadCursor?
        var batches = 0
        while true {
            let batch = try await jobs.store.deadEntries(queue: "default", diedUpTo: 2_000_000, after: cursor, limit: 2, envelopes: batches % 2 == 0)
            guard let last = batch.last else { break }
            visited += batch.map(\.id)
            cursor = DeadCursor(diedAt: last.diedAt, id: last.id)
            batches += 1
            // After the first batch the trims take the three oldest (two already visited).
            if batches == 1 { _ = try await redis.send(RedisCommand("ZREM", [jobs.keys("default").dead, "b1", "b2", "b3"])) }
        }
        #expect(visited == ["b1", "b2", "a1", "a2", "a3", "b4"], "every job left, once, in the set's order")
    }
}
