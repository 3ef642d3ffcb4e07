import Foundation
import Redis
import TestSupport
import Testing

@testable import HoopoeCore

/// A running worker keeps its queues' dead sets within their caps although no job dies (decision 0088): before, only a
/// burial trimmed, so a queue whose jobs stopped dying kept its dead jobs past their age.
@Suite struct DeadSetUpkeepTests {
    /// Writes a dead job as a burial does (its envelope in `dead:jobs`, its id in `dead` scored by its death).
    private func bury(_ h: EngineHarness, id: String, diedAt: Double) async throws {
        var envelope = JobEnvelope(id: id, type: "diag.record", queue: "default", enqueuedAt: diedAt - 60)
        envelope.attempt = 3
        envelope.deadReason = "boom"
        envelope.diedAt = diedAt
        let keys = h.jobs.keys("default")
        _ = try await h.redis.pipeline([
            RedisCommand("ZADD", keys.dead, String(diedAt), id), RedisCommand("HSET", keys.deadJobs, id, String(decoding: envelope.encoded(), as: UTF8.self)),
        ])
    }

    private func deadIDs(_ h: EngineHarness) async throws -> Set<String> {
        Set((try await h.redis.send("ZRANGE", h.jobs.keys("default").dead, "0", "-1").array ?? []).compactMap(\.string))
    }

    private func storedIDs(_ h: EngineHarness) async throws -> Set<String> {
        Set((try await h.redis.send("HKEYS", h.jobs.keys("default").deadJobs).array ?? []).compactMap(\.string))
    }

    @Test func aWorkerRemovesDeadJobsPastTheirAgeWhenNoJobDies() async throws {
        let h = try EngineHarness()
        let now = Date().timeIntervalSince1970
        for i in 0..<3 { try await bury(h, id: "old\(i)", diedAt: now - 200 * 86_400) }  // past the default 180 days
        try await bury(h, id: "recent", diedAt: now - 86_400)
        var options = WorkerOptions.fastTest()
        options.deadSetUpkeepInterval = .milliseconds(100)
        let (worker, task) = h.startWorker(options: options)
        let trimmed = try await h.eventually { try await deadIDs(h) == ["recent"] }
        let left = try await deadIDs(h).sorted()
        #expect(trimmed, "left: \(left)")
        #expect(try await storedIDs(h) == ["recent"], "the envelopes go with their ids")
        worker.shutdown()
        try await task.value
    }

    @Test func aWorkerTrimsADeadSetOverItsCountToTheNewest() async throws {
        let h = try EngineHarness()
        let now = Date().timeIntervalSince1970
        for i in 0..<5 { try await bury(h, id: "d\(i)", diedAt: now - Double(10 - i)) }
        var options = WorkerOptions.fastTest()
        options.deadMaxJobs = 3  // a lowered cap takes effect without waiting for a death
        options.deadSetUpkeepInterval = .milliseconds(100)
        let (worker, task) = h.startWorker(options: options)
        let trimmed = try await h.eventually { try await deadIDs(h) == ["d2", "d3", "d4"] }
        let left = try await deadIDs(h).sorted()
        #expect(trimmed, "left: \(left)")
        #expect(try await storedIDs(h) == ["d2", "d3", "d4"])
        worker.shutdown()
        try await task.value
    }

    /// One call removes what is past the caps and reports how many; a set within them is left as it is. (At `now + 52`
    /// the cutoff is `now - 8`: `a` died before it, `b` after.)
    @Test func aTrimWithinTheCapsRemovesNothing() async throws {
        let h = try EngineHarness()
        let now = Date().timeIntervalSince1970
        try await bury(h, id: "a", diedAt: now - 10)
        try await bury(h, id: "b", diedAt: now - 5)
        let limits = JobStore.DeadSetLimits(maxJobs: 2, maxAge: .seconds(60), eventsMaxLength: 100)
        #expect(try await h.jobs.store.trimDeadSet(queue: "default", limits: limits, now: now) == 0)
        #expect(try await deadIDs(h) == ["a", "b"])
        #expect(try await h.jobs.store.trimDeadSet(queue: "default", limits: limits, now: now + 52) == 1)
        #expect(try await deadIDs(h) == ["b"])
    }
}
