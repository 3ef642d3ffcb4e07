import Foundation
import HoopoeJSON
import Redis
import TestSupport
import Testing

@testable import HoopoeCore

/// A worker whose clock runs ahead of Redis's must not run a plain-`XADD` job before its `run_at` by Redis's clock
/// (jobs/PROTOCOL.md): the bound it learns from promotion rounds (``ClockLead``), and a real worker process under
/// libfaketime a minute ahead.
struct ClockLeadTests {
    @Test func theBoundIsTheSmallestOfTheLastRoundsAndUnknownUntilTheFirst() {
        let lead = ClockLead()
        #expect(lead.bound(queue: "default") == .infinity)
        lead.record(queue: "default", redisTime: 1000, localAfter: 1060.5)
        lead.record(queue: "default", redisTime: 1001, localAfter: 1060.2)
        lead.record(queue: "default", redisTime: 1002, localAfter: 1063)
        #expect(abs(lead.bound(queue: "default") - 59.2) < 1e-9)
        #expect(lead.bound(queue: "other") == .infinity, "a queue's node reads its own clock")
        // The clock steps back by a minute: seen once the window's older rounds are gone.
        for round in 0..<ClockLead.window {
            lead.record(queue: "default", redisTime: 2000 + Double(round), localAfter: 2000.001 + Double(round))
        }
        #expect(abs(lead.bound(queue: "default") - 0.001) < 1e-9)
    }

    @Test func aWorkerAMinuteAheadOfRedisRunsAPlainXADDJobAtItsRunAtByRedisClock() async throws {
        #expect(FileManager.default.fileExists(atPath: FakeClock.library), "libfaketime is missing: scripts/install-deps.sh installs it")
        let h = try EngineHarness()
        let process = try ChildProcess(BuiltProducts.hoopoe, ["worker"], environment: [
            "REDIS_URL": try TestRedis.url(), "HOOPOE_NAMESPACE": h.namespace, "LOG_LEVEL": "warning",
        ].merging(FakeClock.environment(offset: "+60s")) { $1 })
        defer { process.signal(SIGKILL) }
        let key = "\(h.namespace):ran"
        // Started, and its promotion rounds have read Redis's clock (so the learnt bound is what is tested, not the
        // unknown one before the first round).
        #expect(try await h.eventually { !(try await h.jobs.liveProcesses().isEmpty) }, "\(process.output)")
        try await Self.waitUntilTheLeadIsLearnt(h, process)
        let now = try await Self.redisNow(h)
        let due = now + 15  // time for the checks below on a loaded machine, before it is due
        let stream = h.jobs.keys("default").stream
        try await h.redis.send("XADD", stream, "*", "job", #"{"id":"ahead","type":"diag.record","payload":{"key":"\#(key)","member":"ahead"},"run_at":\#(due)}"#)
        try await h.redis.send("XADD", stream, "*", "job", #"{"id":"past","type":"diag.record","payload":{"key":"\#(key)","member":"past"},"run_at":\#(now - 1)}"#)

        // The past one runs at once, not counted early; the one due in 15 s by Redis's clock waits in the scheduled
        // set, although the worker's clock says it is 45 s overdue.
        #expect(try await h.eventually { try await h.recorded(key)["past"] == 1 }, "\(process.output)")
        #expect(try await h.eventually { try await h.jobs.counters(queue: "default")["early"] == 1 }, "\(process.output)")
        #expect(try await h.recorded(key)["ahead"] == nil, "it ran before its run_at by Redis's clock")
        #expect(try await h.jobs.info(queue: "default").scheduled == 1)

        // Then it runs when Redis's clock reaches run_at, once.
        #expect(try await h.eventually(timeout: .seconds(40)) { try await h.recorded(key)["ahead"] == 1 }, "\(process.output)")
        let after = try await h.redis.send("TIME").array?.first?.double ?? 0
        #expect(after >= due.rounded(.down))
        #expect(process.poll() == nil, "the worker exited: \(process.output)")
    }

    /// A worker ten minutes ahead of Redis's clock times a retry's backoff by Redis's: the scheduled set's score is the
    /// backoff after Redis's now, not ten minutes more (the promotion that runs it reads Redis's clock).
    @Test func aWorkerTenMinutesAheadTimesARetryByRedisClock() async throws {
        let h = try EngineHarness()
        // Ten minutes where the machine allows it, six at least: past the five minutes looked at below.
        let offset = try await FakeClock.aheadOffset(preferred: 600, atLeast: 360)
        let process = try ChildProcess(BuiltProducts.hoopoe, ["worker"], environment: [
            "REDIS_URL": try TestRedis.url(), "HOOPOE_NAMESPACE": h.namespace, "LOG_LEVEL": "warning",
        ].merging(FakeClock.environment(offset: offset)) { $1 })
        defer { process.signal(SIGKILL) }
        #expect(try await h.eventually { !(try await h.jobs.liveProcesses().isEmpty) }, "\(process.output)")
        try await Self.waitUntilTheLeadIsLearnt(h, process)
        // A diag.record whose key holds a string: SADD fails (WRONGTYPE), a failure the job retries.
        let key = "\(h.namespace):wrong"
        try await h.redis.send("SET", key, "a string")
        try await h.jobs.enqueue(type: "diag.record", payload: .object(["key": .string(key), "member": .string("m")]))
        #expect(try await h.eventually { try await h.jobs.info(queue: "default").scheduled == 1 }, "\(process.output)")
        let redisNow = try await Self.redisNow(h)
        let pairs = try await h.redis.send("ZRANGE", h.jobs.keys("default").scheduled, "0", "0", "WITHSCORES").array ?? []
        let due = try #require(pairs.last?.double)
        // The first retry's backoff is well under five minutes; six or ten minutes of host clock would put it past that.
        #expect(due - redisNow < 300, "due \(due - redisNow) s after Redis's now")
        #expect(due - redisNow > 0, "due \(due - redisNow) s after Redis's now")
    }

    /// Waits until the worker has learnt its clock lead: until a promotion round has read Redis's clock and the worker
    /// has recorded it. A round is seen by what it does: a job due by Redis's clock is moved from the scheduled set to
    /// the stream, and runs. Two such jobs one after the other: the round that promotes the second started after the
    /// first ran, so the round before it had recorded its reading. The probes are promoted, never counted early. (A
    /// fixed 2 s sleep, as these tests had, could end before the first round on a loaded machine. A job due a second ago
    /// sent by plain `XADD` tells nothing: it is not counted early whether or not the lead is known.)
    private static func waitUntilTheLeadIsLearnt(_ h: EngineHarness, _ process: ChildProcess) async throws {
        let key = "\(h.namespace):probes"
        var promoted = 0
        for probe in 0..<20 where promoted < 2 {
            let due = Date(timeIntervalSince1970: try await redisNow(h) + 0.5)
            let result = try await h.jobs.enqueue(type: "diag.record", payload: h.diag(key: key, member: "\(probe)"), options: EnqueueOptions(runAt: due))
            guard try await h.eventually({ try await h.recorded(key)["\(probe)"] == 1 }) else {
                throw TestSupportError("the worker ran no probe: \(process.output)")
            }
            // Only one that went to the scheduled set was promoted (one that reached Redis after its time was not).
            if case .scheduled = result { promoted += 1 }
        }
        guard promoted == 2 else { throw TestSupportError("no probe reached Redis before its time") }
    }

    private static func redisNow(_ h: EngineHarness) async throws -> Double {
        let time = try await h.redis.send("TIME").array ?? []
        return (time.first?.double ?? 0) + (time.last?.double ?? 0) / 1e6
    }
}
