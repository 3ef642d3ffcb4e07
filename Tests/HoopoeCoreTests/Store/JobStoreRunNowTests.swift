import Foundation
import HoopoeJSON
import Redis
import TestSupport
import Testing

@testable import HoopoeCore

/// ``JobQueue/runNow(id:queue:)``: one scheduled job moved to its stream at once (the dashboard's and `hoopoe job
/// run-now`'s "Run now").
@Suite struct JobStoreRunNowTests {
    /// A retry moved now keeps its envelope byte for byte (its attempt, error, `run_at`) and is marked `promoted`, so a
    /// worker does not hold it back for its `run_at`; the other scheduled jobs stay.
    @Test func aRetryGoesToTheStreamAsItWasMarkedPromoted() async throws {
        let space = try TestNamespace()
        let store = space.jobs.store
        let k = store.keys("default")
        let later = try #require(try await space.jobs.enqueue(type: "diag.record", payload: .object([:]), options: .after(.seconds(3600))).createdID)
        var envelope = JobEnvelope(id: "retry-1", type: "diag.record", queue: "default", payload: .object(["n": 1]), enqueuedAt: 1)
        envelope.attempt = 3
        envelope.lastError = "provider down"
        envelope.runAt = Date().timeIntervalSince1970 + 7200
        var hset = RedisCommand("HSET", k.scheduledJobs, "retry-1")
        hset.append(bytes: envelope.encoded())
        _ = try await space.redis.pipeline([RedisCommand("ZADD", k.scheduled, String(envelope.runAt!), "retry-1"), hset])

        #expect(try await space.jobs.runNow(id: "retry-1", queue: "default") == .moved)
        let entries = try #require(try await space.redis.send("XRANGE", k.stream, "-", "+").array)
        #expect(entries.count == 1)
        let fields = try #require(entries.first?.array?.last?.array)
        #expect(fields.count == 4 && fields[0].string == "promoted" && fields[1].string == "1" && fields[2].string == "job")
        #expect(fields[3].bytes == envelope.encoded(), "the envelope as it was scheduled")
        #expect(try await space.redis.send("ZRANGE", k.scheduled, "0", "-1").array?.compactMap(\.string) == [later])
        #expect(try await space.redis.send("HKEYS", k.scheduledJobs).array?.compactMap(\.string) == [later])
        let found = try await space.jobs.find(id: "retry-1", queue: "default")
        #expect(found?.state == .ready && found?.envelope.attempt == 3)
    }

    /// Many at once (operators, promoters): the job is moved once.
    @Test func aJobIsMovedOnceWhenManyAskAtOnce() async throws {
        let space = try TestNamespace()
        let id = try #require(try await space.jobs.enqueue(type: "diag.record", payload: .object([:]), options: .after(.seconds(3600))).createdID)
        let jobs = space.jobs
        let results = try await withThrowingTaskGroup(of: RunNowResult.self) { group in
            for _ in 0..<8 { group.addTask { try await jobs.runNow(id: id, queue: "default") } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.filter { $0 == .moved }.count == 1 && results.filter { $0 == .notScheduled }.count == 7)
        #expect(try await space.redis.send("XLEN", jobs.store.keys("default").stream).int == 1)
    }

    /// Not scheduled: nothing moves. An id the set holds without its envelope is removed, as the promoter removes it,
    /// and nothing goes to the stream.
    @Test func anUnscheduledOrEnvelopeLessIdMovesNothing() async throws {
        let space = try TestNamespace()
        let k = space.jobs.store.keys("default")
        let ready = try #require(try await space.jobs.enqueue(type: "diag.record", payload: .object([:])).createdID)
        #expect(try await space.jobs.runNow(id: ready, queue: "default") == .notScheduled)
        #expect(try await space.jobs.runNow(id: "nope", queue: "default") == .notScheduled)
        try await space.redis.send("ZADD", k.scheduled, "1", "orphan")
        #expect(try await space.jobs.runNow(id: "orphan", queue: "default") == .noEnvelope)
        #expect(try await space.redis.send("ZCARD", k.scheduled).int == 0)
        #expect(try await space.redis.send("XLEN", k.stream).int == 1, "only the ready job")
    }

    /// A stream the job cannot be written to (a key of another type, set by hand): the call fails and the job stays
    /// scheduled, envelope and all. The script removed it first and lost it when the `XADD` was refused.
    @Test func aRefusedWriteLeavesTheJobScheduled() async throws {
        let space = try TestNamespace()
        let k = space.jobs.store.keys("default")
        let id = try #require(try await space.jobs.enqueue(type: "diag.record", payload: .object([:]), options: .after(.seconds(3600))).createdID)
        try await space.redis.send("SET", k.stream, "not a stream")
        await #expect(throws: RedisError.self) { try await space.jobs.runNow(id: id, queue: "default") }
        #expect(try await space.redis.send("ZSCORE", k.scheduled, id).string != nil)
        #expect(try await space.redis.send("HEXISTS", k.scheduledJobs, id).int == 1)
    }

    /// A scheduled job's envelope stored without its place in the set (a partial write by hand): the cancel finds it
    /// each time and its script finds nothing to remove. Not found (nothing would run it), not "held by a worker that did
    /// not answer", which no worker was asked.
    @Test func aJobFoundWhereItsCancelFindsNothingIsNotFoundNotHeld() async throws {
        let space = try TestNamespace()
        let k = space.jobs.store.keys("default")
        let envelope = JobEnvelope(id: "half-written", type: "diag.record", queue: "default", payload: .object([:]), enqueuedAt: 1)
        var hset = RedisCommand("HSET", k.scheduledJobs, "half-written")
        hset.append(bytes: envelope.encoded())
        _ = try await space.redis.send(hset)
        #expect(try await space.jobs.cancel(id: "half-written", queue: "default") == .notFound)
    }

    /// A job the scheduled set holds whose stored text is not a readable envelope (bytes that are not JSON), or that has
    /// no text at all, is cancelled by its id: gone from the set and the hash, without a read of the stream (its key
    /// holds a string here, so any read would fail the cancel). It was found only when its text decoded: the cancel read
    /// the whole stream, seconds on a large backlog, and answered "not found" while the job stayed scheduled.
    @Test func aScheduledJobWithUnreadableOrNoTextIsCancelled() async throws {
        let space = try TestNamespace()
        let k = space.jobs.store.keys("default")
        let due = String(Date().timeIntervalSince1970 + 3600)
        var hset = RedisCommand("HSET", k.scheduledJobs, "not-json")
        hset.append(bytes: [0x80] + Array(" not json".utf8))
        _ = try await space.redis.pipeline([
            hset, RedisCommand("ZADD", k.scheduled, due, "not-json"), RedisCommand("ZADD", k.scheduled, due, "no-text"),
            RedisCommand("SET", k.stream, "not a stream"),
        ])
        for id in ["not-json", "no-text"] {
            #expect(try await space.jobs.cancel(id: id, queue: "default") == .cancelled, "\(id)")
            #expect(try await space.redis.send("ZSCORE", k.scheduled, id).isNull, "\(id) is still scheduled")
            #expect(try await space.redis.send("HGET", k.scheduledJobs, id).isNull, "\(id)'s text is still stored")
        }
    }

    /// One a service scheduled through `FCALL hoopoe_enqueue` with a field of the wrong JSON type (`"max_attempts":"3"`):
    /// the function took its unique lock all the same. Its cancel releases that lock, so the corrected job is not refused
    /// as a duplicate for a day, and leaves a lock another job holds.
    @Test func anUnreadableScheduledJobsCancelReleasesOnlyTheLockItHolds() async throws {
        let space = try TestNamespace()
        let k = space.jobs.store.keys("default")
        let due = String(Date().timeIntervalSince1970 + 3600)
        var commands: [RedisCommand] = []
        for (id, key) in [("wrong-type-1", "report:7"), ("wrong-type-2", "report:8")] {
            let text = #"{"id":"\#(id)","type":"diag.record","queue":"default","payload":{},"max_attempts":"3","unique_key":"\#(key)","enqueued_at":1}"#
            #expect(throws: (any Error).self) { try JobEnvelope.decode(Array(text.utf8)) }
            commands += [RedisCommand("HSET", k.scheduledJobs, id, text), RedisCommand("ZADD", k.scheduled, due, id)]
        }
        commands += [RedisCommand("SET", k.unique("report:7"), "wrong-type-1"), RedisCommand("SET", k.unique("report:8"), "another-job")]
        _ = try await space.redis.pipeline(commands)
        #expect(try await space.jobs.cancel(id: "wrong-type-1", queue: "default") == .cancelled)
        #expect(try await space.jobs.cancel(id: "wrong-type-2", queue: "default") == .cancelled)
        #expect(try await space.redis.send("ZCARD", k.scheduled).int == 0)
        #expect(try await space.redis.send("GET", k.unique("report:8")).string == "another-job", "another job's lock stays")
        let corrected = try await space.jobs.enqueue(type: "diag.record", payload: .object([:]), options: EnqueueOptions(uniqueKey: "report:7"))
        #expect(corrected.createdID != nil, "\(corrected)")
    }

    /// A cancel racing a run-now of the same delayed job: the job moves from the scheduled set to the stream between the
    /// cancel's look and its script. The cancel looks again and cancels it in the stream; it is never reported not found
    /// while it waits to run (the CLI then said "not found" and the job ran).
    @Test func aCancelRacingARunNowIsNeverNotFoundWhileTheJobWaits() async throws {
        let space = try TestNamespace()
        let jobs = space.jobs
        let k = jobs.store.keys("default")
        var notFoundWhileWaiting = 0
        for _ in 0..<150 {
            let id = try #require(try await jobs.enqueue(type: "diag.record", payload: .object([:]), options: .after(.seconds(3600))).createdID)
            async let moved = jobs.runNow(id: id, queue: "default")
            async let cancelled = jobs.cancel(id: id, queue: "default", holderWait: .zero)
            let (result, _) = try await (cancelled, moved)
            let waiting = try await jobs.find(id: id, queue: "default") != nil
            if result == .notFound && waiting { notFoundWhileWaiting += 1 }
            #expect(result == .cancelled, "\(result)")
            #expect(!waiting, "the job was left to run")
        }
        #expect(notFoundWhileWaiting == 0)
        #expect(try await space.redis.send("XLEN", k.stream).int == 0)
    }
}
