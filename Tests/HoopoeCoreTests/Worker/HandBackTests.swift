import Foundation
import HoopoeCore
import HoopoeJSON
import Redis
import TestSupport
import Testing

/// Jobs handed back at shutdown keep what their stream entry said about them.
@Suite struct HandBackTests {
    /// A job promoted from the scheduled set runs by its score, whatever its `run_at` says (an operator moved it
    /// forward). Handed back at shutdown, it keeps its `promoted 1` field: without it the next worker would take the
    /// future `run_at` for an early arrival and defer it again.
    @Test func aPromotedJobHandedBackAtShutdownKeepsItsMarkerAndRunsNext() async throws {
        let h = try EngineHarness()
        let key = "\(h.namespace):ran"
        let k = h.jobs.keys("default")
        // The first worker runs one job at a time: a job held at a gate holds it while the promoted one waits
        // prefetched (a 3 s sleep instead is a race a loaded parallel phase can lose: the promoted job then runs).
        let gate = TestGate()
        defer { gate.open() }
        try await h.jobs.enqueue(type: GatedRecordJob.type, payload: h.diag(key: key, member: "blocker"))
        let promoted = try #require(try await h.jobs.enqueue(
            type: "diag.record", payload: h.diag(key: key, member: "promoted"), options: EnqueueOptions(runAt: Date().addingTimeInterval(3600))).createdID)
        var options = WorkerOptions.fastTest(concurrency: 1)
        options.shutdownTimeout = .seconds(30)
        let (first, firstTask) = h.startWorker(.diagnostic(gatedBy: gate), options: options)
        #expect(try await h.eventually { try await h.jobs.info(queue: "default").inFlight == 1 }, "the blocker runs")
        try await h.redis.send("ZADD", k.scheduled, "XX", "0", promoted)  // due now, by its score
        #expect(try await h.eventually { try await h.jobs.info(queue: "default").inFlight == 2 }, "promoted and prefetched")
        first.shutdown()
        #expect(try await h.eventually { first.state >= .draining })
        gate.open()
        try await firstTask.value
        #expect(try await h.recorded(key) == ["blocker": 1], "the blocker finished, the promoted job was handed back unrun")

        let entries = try await h.redis.send("XRANGE", k.stream, "-", "+").array ?? []
        let fields = entries.compactMap { $0.array?.last?.array?.compactMap(\.string) }
        let handedBack = fields.filter { $0.last?.contains(promoted) == true }
        #expect(handedBack.count == 1 && handedBack.first?.prefix(3) == ["promoted", "1", "job"], "\(fields)")

        let (second, secondTask) = h.startWorker()
        #expect(try await h.eventually { try await h.recorded(key)["promoted"] == 1 }, "it runs now, not at its run_at")
        second.shutdown()
        try await secondTask.value
        let counters = try await h.jobs.counters(queue: "default")
        #expect(counters["early"] == nil, "not deferred as early: \(counters)")
        #expect(try await h.jobs.info(queue: "default").scheduled == 0)
    }
}
