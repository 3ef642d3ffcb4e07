import Foundation
import Redis
import Testing

@testable import HoopoeCore

/// ``WriteRefusals`` is kept by queue (decision 0111): a settle refused for want of writes pauses the fetch of its own
/// queue only. Kept for the whole worker, one cluster node at `maxmemory` paused the fetch of every queue, the healthy
/// nodes' too (``WriteRefusalClusterTests`` shows it on a real cluster).
@Suite struct WriteRefusalsTests {
    static let oom = RedisError(.server, endpoint: "test", message: "OOM command not allowed when used memory > 'maxmemory'.")
    static let noReplicas = RedisError(.server, endpoint: "test", message: "NOREPLICAS Not enough good replicas to write.")

    /// Queue a refused: a's fetch pauses, b's (a cluster's loop of b, on another node) does not.
    @Test func aRefusedQueuePausesOnlyItsOwnFetch() {
        let refusals = WriteRefusals()
        #expect(refusals.current(among: ["a", "b"]) == nil, "nothing refused")
        refusals.refused(Self.oom, queue: "a")
        #expect(refusals.current(queue: "a")?.message == Self.oom.message)
        #expect(refusals.current(queue: "b") == nil, "b's fetch is not paused by a's refusal")
        #expect(refusals.current(among: ["b", "c"]) == nil)
    }

    /// One Redis: the one fetch loop reads every queue, and pauses while any of them is refused (the refusal is the
    /// server's); the refusal names the refused queues only.
    @Test func aLoopReadingSeveralQueuesPausesWhileAnyIsRefused() throws {
        let refusals = WriteRefusals()
        refusals.refused(Self.oom, queue: "b")
        let refusal = try #require(refusals.current(among: ["a", "b", "c"]))
        #expect(refusal.queues == ["b"])
        refusals.refused(Self.noReplicas, queue: "a")
        let both = try #require(refusals.current(among: ["a", "b", "c"]))
        #expect(both.queues == ["a", "b"])
        #expect(both.error.message == Self.noReplicas.message, "the latest refusal's error")
    }

    /// A settle of one queue landing resumes that queue only: the other's settles are still refused.
    @Test func aLandedSettleResumesItsQueueOnly() {
        let refusals = WriteRefusals()
        refusals.refused(Self.oom, queue: "a")
        refusals.refused(Self.oom, queue: "b")
        refusals.landed(queue: "b")
        #expect(refusals.current(queue: "b") == nil)
        #expect(refusals.current(queue: "a") != nil, "a's settles are still refused")
        refusals.landed(queue: "a")
        #expect(refusals.current(among: ["a", "b"]) == nil)
    }

    /// Each queue's hold runs from its own last refusal: one past it resumes while a later one still pauses.
    @Test func eachQueuesHoldRunsFromItsOwnLastRefusal() async throws {
        let refusals = WriteRefusals()
        refusals.refused(Self.oom, queue: "a")
        let aTold = ContinuousClock.now
        try await Task.sleep(for: .milliseconds(300))
        refusals.refused(Self.oom, queue: "b")
        let later = aTold + WriteRefusals.hold + .milliseconds(100)
        #expect(refusals.current(queue: "a", now: later) == nil, "past a's hold")
        #expect(refusals.current(queue: "b", now: later) != nil, "within b's")
        #expect(refusals.current(among: ["a", "b"], now: later + WriteRefusals.hold) == nil, "past both")
        #expect(refusals.current(queue: "b") == nil, "gone once past its hold, not paused again")
    }
}
