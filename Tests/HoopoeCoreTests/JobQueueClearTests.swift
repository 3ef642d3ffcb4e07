import Foundation
import HoopoeCore
import HoopoeJSON
import Redis
import Testing

/// `JobQueue.clear`: a queue's waiting jobs removed as cancels remove them (unique locks released, `notify` callers
/// told), those of another type and those workers fetched left, nothing written to job history.
@Suite struct JobQueueClearTests {
    @Test func clearsTheWaitingJobsOfOneTypeAndLeavesTheRest() async throws {
        let h = try EngineHarness()
        let k = h.jobs.keys("default")
        // A worker fetched the first (pending to it): not ready, not touched, its unique lock kept.
        try await h.jobs.enqueue(type: "flood.sms", payload: .object([:]), options: EnqueueOptions(uniqueKey: "held"))
        _ = try await h.redis.send("XGROUP", "CREATE", k.stream, QueueKeys.group, "0", "MKSTREAM")
        _ = try await h.redis.send("XREADGROUP", "GROUP", QueueKeys.group, "w-1", "COUNT", "1", "STREAMS", k.stream, ">")
        // 250 of the flood's type (some unique, one waited on), 30 of another; then 20 and 5 of them delayed.
        var batch = (0..<250).map { n in
            (type: "flood.sms", payload: JSONValue.object(["n": .integer(Int64(n))]),
             options: EnqueueOptions(uniqueKey: n % 50 == 0 ? "flood-\(n)" : nil))
        }
        batch += (0..<30).map { n in (type: "diag.record", payload: JSONValue.object(["n": .integer(Int64(n))]), options: EnqueueOptions()) }
        _ = try await h.jobs.enqueueBatch(batch)
        let waited = try #require(try await h.jobs.enqueue(type: "flood.sms", payload: .object([:]), options: EnqueueOptions(notify: true)).createdID)
        for n in 0..<20 {
            try await h.jobs.enqueue(type: "flood.sms", payload: .object([:]), options: EnqueueOptions(runAt: Date().addingTimeInterval(600), uniqueKey: "later-\(n)"))
        }
        for _ in 0..<5 { try await h.jobs.enqueue(type: "diag.record", payload: .object([:]), options: .after(.seconds(600))) }

        let cleared = try await h.jobs.clear(queue: "default", type: "flood.sms")
        #expect(cleared == ClearResult(cleared: 251, fetched: 0, otherTypes: 30), "\(cleared)")
        var info = try await h.jobs.info(queue: "default")
        #expect(info.ready == 30 && info.inFlight == 1 && info.scheduled == 25, "\(info)")
        // Their unique locks went with them: the keys can be used again; the fetched job's is still held.
        #expect(try await h.jobs.enqueue(type: "flood.sms", payload: .object([:]), options: EnqueueOptions(uniqueKey: "flood-50")).createdID != nil)
        #expect(try await h.jobs.enqueue(type: "flood.sms", payload: .object([:]), options: EnqueueOptions(uniqueKey: "held")).createdID == nil)
        let answer = try await h.redis.send("LPOP", k.answer(waited))
        #expect(answer.string?.contains(#""outcome":"cancelled""#) == true, "\(answer)")
        #expect(try await h.redis.send("HLEN", k.historyJobs).int == 0, "a clear writes no history")

        let rest = try await h.jobs.clear(queue: "default", scheduled: true)
        #expect(rest == ClearResult(cleared: 30 + 1 + 25, fetched: 0, otherTypes: 0), "the other type's, flood-50's again, the delayed: \(rest)")
        info = try await h.jobs.info(queue: "default")
        #expect(info.ready == 0 && info.inFlight == 1 && info.scheduled == 0, "\(info)")
        #expect(try await h.jobs.enqueue(type: "flood.sms", payload: .object([:]), options: EnqueueOptions(uniqueKey: "later-3")).createdID != nil)
    }

    @Test func anEmptyOrMissingQueueClearsNothing() async throws {
        let h = try EngineHarness()
        #expect(try await h.jobs.clear(queue: "nothing-here", scheduled: true) == ClearResult())
    }
}
