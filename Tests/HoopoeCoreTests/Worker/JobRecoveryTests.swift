import Foundation
@testable import HoopoeCore
import Redis
import TestSupport
import Testing

/// How much of a dead worker's jobs one recovery round claims: the room below the fetch's depth, `prefetch` or, while
/// short jobs outrun the fetches, `maxPrefetch` (decisions 0069 and 0071).
@Suite struct JobRecoveryTests {
    /// A consumer took 60 jobs and died; their lease lapsed. A round of a worker whose fetch is shallow claims up to
    /// its `prefetch`; one whose fetch went deep (a backlog of short jobs) up to its `maxPrefetch`. Below `prefetch`
    /// alone, a deep worker, which holds up to `maxPrefetch`, often had no room and left them round after round.
    @Test func aRoundClaimsIntoTheRoomBelowTheFetchsDepth() async throws {
        let h = try EngineHarness()
        for i in 0..<60 { _ = try await h.jobs.enqueue(type: "diag.record", payload: h.diag(key: "\(h.namespace):rec", member: "m\(i)")) }
        let stream = h.jobs.keys("default").stream
        _ = try await h.redis.send("XGROUP", "CREATE", stream, QueueKeys.group, "0", "MKSTREAM")
        let taken = try await h.redis.send(RedisCommand("XREADGROUP", ["GROUP", QueueKeys.group, "ghost", "COUNT", "100", "STREAMS", stream, ">"]))
        #expect(taken.array?.first?.array?.last?.array?.count == 60)
        try await Task.sleep(for: .milliseconds(300))  // past the 100 ms lease

        let options = WorkerOptions(concurrency: 2, prefetch: 4, maxPrefetch: 40, lease: .milliseconds(100))
        var claimed: [Int] = []
        for depth in [options.prefetch, options.maxPrefetch] {
            let buffer = JobBuffer(selection: options.queues)
            buffer.setFetchDepth(depth)
            let leases = Leases()
            let recovery = JobRecovery(
                store: h.jobs.store, options: options, buffer: buffer, leases: leases, lifecycle: WorkerLifecycle(runners: 2),
                handBack: HandBack(store: h.jobs.store, leases: leases, logger: EngineHarness.quietLogger, consumer: options.consumer), logger: EngineHarness.quietLogger)
            try await recovery.round()
            claimed.append(buffer.count)
        }
        #expect(claimed == [4, 40])
        // Never below prefetch: a worker that has not fetched yet (depth 0) claims up to prefetch.
        let buffer = JobBuffer(selection: options.queues)
        #expect(buffer.room(keepingAtLeast: options.prefetch) == 4)
        buffer.setFetchDepth(40)
        _ = buffer.put(fetchedJobs(count: 30))
        #expect(buffer.room(keepingAtLeast: options.prefetch) == 10)
    }

    /// Queue `a` fails every round (a key of another type here; a cluster primary down, or a paused queue's group
    /// gone, alike): `b`, after it in `--queues`, is still recovered, and the round's error names `a`. Before, the
    /// round ended at `a` and `b`'s lost jobs were never taken over.
    @Test func aFailingQueueDoesNotStopTheQueuesAfterIt() async throws {
        let h = try EngineHarness()
        try await h.redis.send("SET", h.jobs.keys("a").recoveryClock, "not a hash")
        _ = try await h.jobs.enqueue(type: "diag.record", payload: h.diag(key: "\(h.namespace):rec", member: "b"), options: EnqueueOptions(queue: "b"))
        let stream = h.jobs.keys("b").stream
        _ = try await h.redis.send("XGROUP", "CREATE", stream, QueueKeys.group, "0", "MKSTREAM")
        _ = try await h.redis.send(RedisCommand("XREADGROUP", ["GROUP", QueueKeys.group, "ghost", "COUNT", "10", "STREAMS", stream, ">"]))
        try await Task.sleep(for: .milliseconds(300))  // past the 100 ms lease
        let options = WorkerOptions(queues: QueueSelection(["a", "b"]), concurrency: 2, prefetch: 10, lease: .milliseconds(100))
        let buffer = JobBuffer(selection: options.queues)
        let leases = Leases()
        let recovery = JobRecovery(
            store: h.jobs.store, options: options, buffer: buffer, leases: leases, lifecycle: WorkerLifecycle(runners: 2),
            handBack: HandBack(store: h.jobs.store, leases: leases, logger: EngineHarness.quietLogger, consumer: options.consumer), logger: EngineHarness.quietLogger)
        await #expect(throws: QueueRoundFailure.self) { try await recovery.round() }
        #expect(buffer.count == 1, "b's lost job is taken over")
        do { try await recovery.round() } catch { #expect("\(error)".hasPrefix("queue a: "), "\(error)") }
    }

    /// The same for promotion: `a`'s scheduled set holds another type; `b`'s due job still reaches its stream.
    @Test func aFailingQueueDoesNotStopPromotionOfTheQueuesAfterIt() async throws {
        let h = try EngineHarness()
        try await h.redis.send("SET", h.jobs.keys("a").scheduled, "not a sorted set")
        let later = EnqueueOptions(queue: "b", runAt: Date().addingTimeInterval(0.2))
        _ = try await h.jobs.enqueue(type: "diag.record", payload: h.diag(key: "\(h.namespace):p", member: "b"), options: later)
        try await Task.sleep(for: .milliseconds(400))
        let promotion = JobPromotion(store: h.jobs.store, queues: ["a", "b"], interval: .seconds(1), clockLead: ClockLead())
        await #expect(throws: QueueRoundFailure.self) { try await promotion.round() }
        #expect(try await h.redis.send("XLEN", h.jobs.keys("b").stream).int == 1, "b's due job is promoted")
    }

    /// An entry this worker runs goes unrenewed past its lease (here its idle time is set by hand; a failing renewal
    /// connection alike) and recovery claims it back to this same worker: the job runs once. Before, a second copy
    /// went into the buffer and ran again after the first was acknowledged.
    @Test func aWorkersOwnEntryRecoveredIsNotRunTwice() async throws {
        let h = try EngineHarness()
        let gate = TestGate()
        defer { gate.open() }
        let options = WorkerOptions.fastTest(concurrency: 1)
        let (worker, task) = h.startWorker(.diagnostic(gatedBy: gate), options: options)
        defer { worker.shutdown() }
        let key = "\(h.namespace):own"
        try await h.jobs.enqueue(type: GatedRecordJob.type, payload: h.diag(key: key, member: "m"))
        let stream = h.jobs.keys("default").stream
        var entry: String?
        #expect(try await h.eventually {
            entry = (try? await h.redis.send("XPENDING", stream, QueueKeys.group, "-", "+", "1"))?.array?.first?.array?.first?.string
            return entry != nil
        })
        let id = try #require(entry)
        func deliveries() async throws -> Int? {
            try await h.redis.send("XPENDING", stream, QueueKeys.group, id, id, "1").array?.first?.array?[3].int
        }
        #expect(try await deliveries() == 1, "fetched once")
        // JUSTID: the idle time is set, the delivery count left as it is (renewals claim the same way).
        _ = try await h.redis.send("XCLAIM", stream, QueueKeys.group, options.consumer, "0", id, "IDLE", "60000", "JUSTID")
        // A recovery round (every 200 ms) claims it back to this worker: XAUTOCLAIM counts a second delivery. Without
        // that, nothing here would show that recovery ever looked at the worker's own entry.
        #expect(try await h.eventually(timeout: .seconds(10)) { try await deliveries() == 2 }, "recovery did not claim the unrenewed entry")
        let owner = try await h.redis.send("XPENDING", stream, QueueKeys.group, id, id, "1").array?.first?.array?[1].string
        #expect(owner == options.consumer, "claimed back to the worker that runs it: \(owner ?? "nil")")
        #expect(try await h.redis.send("HGET", key + ":count", "m").int == nil, "still held at the gate")
        try await Task.sleep(for: .milliseconds(400))  // two more rounds: the entry, fresh again, is not claimed again
        #expect(try await deliveries() == 2)
        gate.open()
        #expect(try await h.eventually { try await h.redis.send("HGET", key + ":count", "m").int == 1 })
        try await Task.sleep(for: .milliseconds(800))
        #expect(try await h.redis.send("HGET", key + ":count", "m").int == 1, "the job ran once")
        worker.shutdown()
        try await task.value
    }

    /// A quiet worker (SIGTSTP: "fetches nothing new") takes no lost worker's jobs either; running, it does.
    @Test func aQuietWorkerRecoversNothing() async throws {
        let h = try EngineHarness()
        for i in 0..<5 { _ = try await h.jobs.enqueue(type: "diag.record", payload: h.diag(key: "\(h.namespace):rec", member: "m\(i)")) }
        let stream = h.jobs.keys("default").stream
        _ = try await h.redis.send("XGROUP", "CREATE", stream, QueueKeys.group, "0", "MKSTREAM")
        _ = try await h.redis.send(RedisCommand("XREADGROUP", ["GROUP", QueueKeys.group, "ghost", "COUNT", "100", "STREAMS", stream, ">"]))
        try await Task.sleep(for: .milliseconds(300))  // past the 100 ms lease
        let options = WorkerOptions(concurrency: 2, prefetch: 10, lease: .milliseconds(100))
        let buffer = JobBuffer(selection: options.queues)
        let leases = Leases()
        let lifecycle = WorkerLifecycle(runners: 2)
        let recovery = JobRecovery(
            store: h.jobs.store, options: options, buffer: buffer, leases: leases, lifecycle: lifecycle,
            handBack: HandBack(store: h.jobs.store, leases: leases, logger: EngineHarness.quietLogger, consumer: options.consumer), logger: EngineHarness.quietLogger)
        #expect(lifecycle.quiet())
        try await recovery.round()
        #expect(buffer.count == 0)
        let pending = try await h.redis.send("XPENDING", stream, QueueKeys.group).array ?? []
        #expect(pending.last?.array?.first?.array?.first?.string == "ghost", "still the lost worker's: \(pending)")
        // The same round of a running worker claims them.
        let running = JobRecovery(
            store: h.jobs.store, options: options, buffer: buffer, leases: leases, lifecycle: WorkerLifecycle(runners: 2),
            handBack: HandBack(store: h.jobs.store, leases: leases, logger: EngineHarness.quietLogger, consumer: options.consumer), logger: EngineHarness.quietLogger)
        try await running.round()
        #expect(buffer.count == 5)
    }

    private func fetchedJobs(count: Int) -> [FetchedJob] {
        (0..<count).map { FetchedJob(queue: "default", entryID: "1-\($0)", bytes: [], deliveries: 1) }
    }
}
