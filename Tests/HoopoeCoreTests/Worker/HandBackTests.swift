import Foundation
@testable import HoopoeCore
import HoopoeJSON
import Redis
import TestSupport
import Testing

/// Jobs handed back at shutdown keep what their stream entry said about them.
@Suite struct HandBackTests {
    /// Two entries pending to this worker, one of which another worker has taken since (its lease lapsed): only this
    /// worker's is handed back, byte for byte. Before, the other worker's was handed back too (a second copy of a job
    /// running there), and an envelope that is not UTF-8 came back as U+FFFD, readable, and ran instead of being buried.
    @Test func onlyThisWorkersEntriesAreHandedBackAsStored() async throws {
        let h = try EngineHarness()
        let k = h.jobs.keys("default")
        try await h.jobs.store.createGroups(queues: ["default"])
        let garbled = Array(#"{"id":"g1","type":"diag.record","queue":"default","payload":{"key":"k","member":""#.utf8) + [0xC8, 0xD1] + Array(#""},"attempt":0}"#.utf8)
        var add = RedisCommand("XADD", k.stream, "*", "job")
        add.append(bytes: garbled)
        try await h.redis.send(add)
        try await h.jobs.enqueue(type: "diag.record", payload: h.diag(key: "\(h.namespace):k", member: "theirs"))
        let read = try await h.redis.send("XREADGROUP", "GROUP", QueueKeys.group, "me", "COUNT", "2", "STREAMS", k.stream, ">")
        let entries = (read.array?.first?.array?.last?.array ?? []).compactMap { $0.array?.first?.string }
        try #require(entries.count == 2)
        _ = try await h.redis.send("XCLAIM", k.stream, QueueKeys.group, "other", "0", entries[1], "JUSTID")
        let leases = Leases()
        let handBack = HandBack(store: h.jobs.store, leases: leases, logger: EngineHarness.quietLogger, consumer: "me")
        await handBack([
            FetchedJob(queue: "default", entryID: entries[0], bytes: garbled, deliveries: 1),
            FetchedJob(queue: "default", entryID: entries[1], bytes: [], deliveries: 1),
        ])
        let pending = (try await h.redis.send("XPENDING", k.stream, QueueKeys.group, "-", "+", "10").array ?? []).compactMap { $0.array?.first?.string }
        #expect(pending == [entries[1]], "the other worker's entry is left pending to it")
        let stream = try await h.redis.send("XRANGE", k.stream, "-", "+").array ?? []
        #expect(stream.count == 2, "the other's entry, and this worker's handed back anew: \(stream)")
        let handedBack = try #require(stream.last?.array?.last?.array?.last?.bytes)
        #expect(stream.last?.array?.first?.string != entries[0] && handedBack == garbled, "handed back byte for byte")
    }

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

    /// A run cut off when the shutdown timeout ran out counts as an attempt in the job handed back: a `max_attempts: 1`
    /// job so cut off goes to the dead set unrun at the next worker. Before, it came back with `attempt` 0 and ran again
    /// in full, where its owner asked for one attempt (decision 0079).
    @Test func aRunCutOffByShutdownCountsAsAnAttempt() async throws {
        let h = try EngineHarness()
        let key = "\(h.namespace):long"
        let id = try #require(try await h.jobs.enqueue(
            type: "diag.record", payload: h.diag(key: key, member: "long", sleepMs: 60_000), options: EnqueueOptions(maxAttempts: 1)).createdID)
        var options = WorkerOptions.fastTest(concurrency: 1)
        options.shutdownTimeout = .milliseconds(300)
        let (first, firstTask) = h.startWorker(options: options)
        #expect(try await h.eventually { first.busy == 1 })
        first.shutdown()
        try await firstTask.value
        let found = try #require(try await h.jobs.find(id: id, queue: "default"), "handed back")
        #expect(found.state == .ready && found.envelope.attempt == 1, "\(found.state) attempt \(found.envelope.attempt)")

        let (second, secondTask) = h.startWorker(options: .fastTest(concurrency: 1))
        #expect(try await h.eventually { try await h.jobs.info(queue: "default").dead == 1 }, "buried unrun: no attempt left")
        second.shutdown()
        try await secondTask.value
        #expect(try await h.recorded(key).isEmpty)
        let dead = try #require(try await h.jobs.find(id: id, queue: "default"))
        #expect(dead.envelope.deadReason?.contains("cut off by a shutdown") == true, "\(dead.envelope.deadReason ?? "")")
    }
}
