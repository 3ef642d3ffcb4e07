import Foundation
import HoopoeJSON
import Redis
import TestSupport
import Testing

@testable import HoopoeCore

/// A cancel gives back a unique lock only when the cancelled job holds it (cancel.lua's `cancel_finish`, as
/// acknowledge.lua and kill.lua do): a job whose `unique_for` window lapsed while it waited no longer holds its key, and
/// the job enqueued with that key since does. Released by the first job's cancel, that lock was gone while its job
/// waited, and a third copy was accepted beside it.
@Suite struct CancelUniqueLockTests {
    @Test(arguments: [false, true]) func aCancelLeavesTheLockOfTheJobThatHoldsItNow(scheduled: Bool) async throws {
        let h = try EngineHarness()
        let lock = h.jobs.keys("default").unique("lapsed")
        let runAt = scheduled ? Date().addingTimeInterval(3600) : nil
        let first = try #require(try await h.jobs.enqueue(
            type: "diag.record", payload: .object([:]), options: EnqueueOptions(runAt: runAt, uniqueKey: "lapsed", uniqueFor: .seconds(1))).createdID)
        #expect(try await h.eventually(timeout: .seconds(10)) { (try await h.redis.send("EXISTS", lock).int ?? 1) == 0 }, "the 1 s window lapses")
        let second = try #require(try await h.jobs.enqueue(
            type: "diag.record", payload: .object([:]), options: EnqueueOptions(runAt: runAt, uniqueKey: "lapsed")).createdID)
        #expect(try await h.jobs.cancel(id: first, queue: "default") == .cancelled)
        #expect(try await h.redis.send("GET", lock).string == second, "the second job's lock was released by the first one's cancel")
        #expect(try await h.jobs.enqueue(type: "diag.record", payload: .object([:]), options: EnqueueOptions(uniqueKey: "lapsed")) == .duplicate(existingID: second))
    }
}
