import Foundation
import HoopoeJSON
import Redis
import Synchronization
import TestSupport
import Testing

@testable import HoopoeCore

/// A worker whose lease lapsed (paused, or cut off from Redis, longer than the lease) while another recovered its job
/// writes no outcome for it: the retry it would schedule ran the job a third time, the burial put a job that succeeded
/// in the dead set, announced it dead and released its unique lock while the other worker ran it.
@Suite struct DeliveryTakenOverTests {
    /// Waits at its gate, then fails: for a retry, or for good.
    struct GatedFailure: JobHandler {
        struct Payload: Codable, Sendable { var permanent: Bool }
        static let type = "test.gated-failure"
        let gate: TestGate
        func run(_ payload: Payload, context: JobContext) async throws {
            await gate.wait()
            throw payload.permanent ? JobFailure.permanent("gave up") : JobFailure.retry("try later")
        }
    }

    @Test(arguments: [false, true]) func aJobAnotherWorkerRecoveredIsNeitherRetriedNorBuriedHere(permanent: Bool) async throws {
        let h = try EngineHarness()
        let gate = TestGate()
        var registry = JobRegistry.diagnostic
        registry.register(GatedFailure(gate: gate))
        let id = try #require(
            try await h.jobs.enqueue(type: GatedFailure.type, payload: .object(["permanent": .bool(permanent)]), options: EnqueueOptions(uniqueKey: "order-1"))
                .createdID)
        let (worker, task) = h.startWorker(registry)
        #expect(try await h.eventually { gate.waiting == 1 })

        // What another worker's recovery does once the lease lapsed: the delivery becomes its own.
        let k = h.jobs.keys("default")
        let entryID = try #require(try await h.redis.send("XPENDING", k.stream, QueueKeys.group, "-", "+", "1").array?.first?.array?.first?.string)
        try await h.redis.send("XCLAIM", k.stream, QueueKeys.group, "recovering-worker", "0", entryID, "JUSTID")
        gate.open()
        worker.shutdown()
        try await task.value

        #expect(try await h.redis.send("ZCARD", k.scheduled).int == 0, "no retry scheduled by the worker that lost the job")
        #expect(try await h.redis.send("ZCARD", k.dead).int == 0, "not buried while another worker runs it")
        let pending = try await h.redis.send("XPENDING", k.stream, QueueKeys.group, "-", "+", "10").array ?? []
        #expect(pending.count == 1 && pending.first?.array?[1].string == "recovering-worker", "still the other worker's to settle")
        #expect(try await h.redis.send("GET", k.unique("order-1")).string == id, "its unique lock kept while it runs there")
        #expect(try await h.redis.send("XLEN", h.jobs.global.events).int ?? 0 == 0, "no job.dead event")
    }

    /// Waits at its gate, then succeeds.
    struct GatedSuccess: JobHandler {
        struct Payload: Codable, Sendable {}
        static let type = "test.gated-success"
        let gate: TestGate
        func run(_ payload: Payload, context: JobContext) async throws { await gate.wait() }
    }

    /// A success too: acknowledged by the worker whose lease lapsed, it released the unique lock while the recovering
    /// worker ran the job (a duplicate was accepted beside it) and answered its caller before that worker did.
    @Test(arguments: [false, true]) func aJobAnotherWorkerRecoveredIsNotAcknowledgedHereWhenItHasALockOrAnAnswer(settledThere: Bool) async throws {
        let h = try EngineHarness()
        let gate = TestGate()
        var registry = JobRegistry.diagnostic
        registry.register(GatedSuccess(gate: gate))
        let id = try #require(
            try await h.jobs.enqueue(type: GatedSuccess.type, payload: .object([:]), options: EnqueueOptions(uniqueKey: "order-2", notify: true)).createdID)
        let (worker, task) = h.startWorker(registry)
        #expect(try await h.eventually { gate.waiting == 1 })
        let k = h.jobs.keys("default")
        let entryID = try #require(try await h.redis.send("XPENDING", k.stream, QueueKeys.group, "-", "+", "1").array?.first?.array?.first?.string)
        try await h.redis.send("XCLAIM", k.stream, QueueKeys.group, "recovering-worker", "0", entryID, "JUSTID")
        if settledThere {
            // The recovering worker ran it fast and settled it: acknowledged, its lock released, its caller answered.
            try await h.redis.send("XACK", k.stream, QueueKeys.group, entryID)
            try await h.redis.send("DEL", k.unique("order-2"))
            try await h.redis.send("LPUSH", k.answer(id), "{}")
        }
        gate.open()
        try await Task.sleep(for: .milliseconds(500))
        worker.shutdown()
        try await task.value
        if settledThere {
            #expect(try await h.redis.send("LLEN", k.answer(id)).int == 1, "answered once, by the worker that settled it")
            return
        }
        #expect(try await h.redis.send("GET", k.unique("order-2")).string == id, "its unique lock kept while it runs there")
        let pending = try await h.redis.send("XPENDING", k.stream, QueueKeys.group, "-", "+", "10").array ?? []
        #expect(pending.count == 1 && pending.first?.array?[1].string == "recovering-worker", "still the other worker's to settle")
        #expect(try await h.redis.send("LLEN", k.answer(id)).int == 0, "no answer from the worker that lost it")
    }

    /// The payloads' numbers the handler ran, in order.
    final class Runs: Sendable {
        let numbers = Mutex<[Int]>([])
    }

    /// Counts its runs, the first held at its gate.
    struct GatedCount: JobHandler {
        struct Payload: Codable, Sendable { var n: Int }
        static let type = "test.gated-count"
        let gate: TestGate
        let runs: Runs
        func run(_ payload: Payload, context: JobContext) async throws {
            runs.numbers.withLock { $0.append(payload.n) }
            if payload.n == 0 { await gate.wait() }
        }
    }

    /// Jobs fetched here, not started, whose lease lapsed and which another worker recovered (or even settled): they
    /// ran here anyway once a runner was free, the whole prefetch after a pause. The renewal withdraws them.
    @Test(arguments: [false, true]) func aWaitingJobAnotherWorkerTookDoesNotRunHere(settledThere: Bool) async throws {
        let h = try EngineHarness()
        let gate = TestGate()
        let runs = Runs()
        var registry = JobRegistry.diagnostic
        registry.register(GatedCount(gate: gate, runs: runs))
        for n in 0..<2 { _ = try await h.jobs.enqueue(type: GatedCount.type, payload: .object(["n": .integer(Int64(n))])) }
        let (worker, task) = h.startWorker(registry, options: .fastTest(concurrency: 1, lease: .seconds(3)))
        #expect(try await h.eventually { gate.waiting == 1 })
        let k = h.jobs.keys("default")
        // Both delivered here: the first runs, the second waits in the buffer.
        #expect(try await h.eventually { (try await h.redis.send("XPENDING", k.stream, QueueKeys.group).array?.first?.int ?? 0) == 2 })
        let pending = try await h.redis.send("XPENDING", k.stream, QueueKeys.group, "-", "+", "10").array ?? []
        let second = try #require(pending.last?.array?.first?.string)
        if settledThere {
            try await h.redis.send("XACK", k.stream, QueueKeys.group, second)
        } else {
            try await h.redis.send("XCLAIM", k.stream, QueueKeys.group, "recovering-worker", "0", second, "JUSTID")
        }
        // Renewals every 600 ms; the other worker's entry is not idle for a lease (3 s), so no recovery takes it back.
        try await Task.sleep(for: .milliseconds(1500))
        gate.open()
        try await Task.sleep(for: .milliseconds(500))
        worker.shutdown()
        try await task.value
        #expect(runs.numbers.withLock { $0 } == [0], "the job another worker took did not run here")
        if !settledThere {
            let left = try await h.redis.send("XPENDING", k.stream, QueueKeys.group, "-", "+", "10").array ?? []
            #expect(left.count == 1 && left.first?.array?[1].string == "recovering-worker", "still the other worker's")
        }
    }

    /// The store refuses it in one script, changing nothing, and says why.
    @Test func theStoreThrowsAndChangesNothing() async throws {
        let space = try TestNamespace()
        let store = space.jobs.store
        try await store.createGroups(queues: ["default"])
        let envelope = JobEnvelope(id: "t-1", type: "test.settle").encoded()
        var xadd = RedisCommand("XADD", store.keys("default").stream, "*", "job")
        xadd.append(bytes: envelope)
        let entryID = try #require(try await space.redis.send(xadd).string)
        let connection = store.makeFetchConnection()
        defer { connection.close() }
        _ = try await store.fetch(on: connection, consumer: "other", count: 1, block: .milliseconds(100), queues: ["default"])
        await #expect(throws: DeliveryTakenOver.self) {
            try await store.retry(queue: "default", entryID: entryID, jobID: "t-1", envelope: envelope, due: Date().timeIntervalSince1970 + 60, type: "test.settle", consumer: "me")
        }
        await #expect(throws: DeliveryTakenOver.self) {
            try await store.deferEarly(queue: "default", entryID: entryID, jobID: "t-1", envelope: envelope, runAt: Date().timeIntervalSince1970 + 60, type: "test.settle", consumer: "me")
        }
        var dead = try JobEnvelope.decode(envelope)
        dead.deadReason = "failed"
        let limits = JobStore.DeadSetLimits(maxJobs: 100, maxAge: .seconds(3600), eventsMaxLength: 1000)
        await #expect(throws: DeliveryTakenOver.self) {
            try await store.bury(dead, queue: "default", entryID: entryID, uniqueKey: nil, countedType: "test.settle", answer: nil, limits: limits, now: Date().timeIntervalSince1970, consumer: "me")
        }
        let k = store.keys("default")
        #expect(try await space.redis.send("ZCARD", k.scheduled).int == 0)
        #expect(try await space.redis.send("ZCARD", k.dead).int == 0)
        #expect(try await space.jobs.counters(queue: "default").isEmpty)
        // Its own consumer settles it.
        try await store.retry(queue: "default", entryID: entryID, jobID: "t-1", envelope: envelope, due: Date().timeIntervalSince1970 + 60, type: "test.settle", consumer: "other")
        #expect(try await space.redis.send("ZCARD", k.scheduled).int == 1)
    }
}
