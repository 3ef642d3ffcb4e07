import Foundation
@testable import HoopoeCore
import HoopoeJSON
import Redis
import TestSupport
import Testing

/// A cancel of a job a worker holds (decision 0089): the holder answers, cancelling a job that waits in its buffer and
/// saying `running` for one it started; a holder that does not answer leaves the job as it was.
@Suite struct CancelWatchTests {
    /// One runner, held at a gate by the first job: the next two wait fetched in the worker's buffer. The first of them
    /// is cancelled (it never runs; its record, `notify` answer and unique key as for a ready job's cancel), the running
    /// one is answered `running`, and the last runs once the gate opens.
    @Test func aFetchedJobIsCancelledBeforeItStartsAndARunningOneIsAnswered() async throws {
        let h = try EngineHarness()
        let key = "\(h.namespace):ran"
        let k = h.jobs.keys("default")
        let gate = TestGate()
        defer { gate.open() }
        let blocker = try #require(try await h.jobs.enqueue(type: GatedRecordJob.type, payload: h.diag(key: key, member: "blocker")).createdID)
        let held = try #require(try await h.jobs.enqueue(
            type: "diag.record", payload: h.diag(key: key, member: "held"), options: EnqueueOptions(uniqueKey: "user-9", notify: true)).createdID)
        try await h.jobs.enqueue(type: "diag.record", payload: h.diag(key: key, member: "after"))
        var options = WorkerOptions.fastTest(concurrency: 1)
        options.pauseCheckInterval = .milliseconds(100)
        let (worker, task) = h.startWorker(.diagnostic(gatedBy: gate), options: options)
        #expect(try await h.eventually { try await h.jobs.info(queue: "default").inFlight == 3 }, "the blocker runs, two wait fetched")

        // A long wait: the answer comes with the worker's next round (0.1 s here), however late a loaded machine makes it.
        #expect(try await h.jobs.cancel(id: held, queue: "default", holderWait: .seconds(20)) == .cancelled)
        #expect(try await h.jobs.info(queue: "default").inFlight == 2, "its entry is acknowledged and gone")
        let record = try #require(try await h.jobs.store.historyRecord(id: held, queue: "default"))
        #expect(record.outcome == .cancelled && record.worker == options.consumer && record.attempt == 0, "\(record)")
        let answers = try await h.redis.send("LRANGE", k.answer(held), "0", "-1").array?.compactMap(\.string) ?? []
        #expect(answers.count == 1 && answers[0].contains("\"outcome\":\"cancelled\""), "\(answers)")
        #expect(try await h.redis.send("EXISTS", k.unique("user-9")).int == 0, "its unique key is released")

        // A copy of the running job waiting in the buffer too (recovery claims a worker's own entry again when its
        // lease lapsed): still `running`. Withdrawing the copy answered `cancelled` for a job that ran.
        let running = try #require(try await h.jobs.find(id: blocker, queue: "default"))
        let entry = try #require(running.entryID)
        #expect(worker.buffer.put([FetchedJob(queue: "default", entryID: entry, bytes: running.envelope.encoded(), deliveries: 2)]).isEmpty)
        #expect(try await h.jobs.cancel(id: blocker, queue: "default", holderWait: .seconds(20)) == .running)
        #expect(try await h.redis.send("EXISTS", k.cancels).int == 0, "every request was closed by its canceller")
        #expect(try await h.jobs.find(id: blocker, queue: "default")?.entryID == entry, "the running job's entry is not settled")
        #expect(worker.buffer.withdraw(queue: "default", entryID: entry) != nil, "the copy was left where it was")

        gate.open()
        #expect(try await h.eventually { try await h.recorded(key)["after"] == 1 })
        worker.shutdown()
        try await task.value
        #expect(try await h.recorded(key) == ["blocker": 1, "after": 1], "the cancelled job never ran")
    }

    /// Two queues' streams give the same entry id to entries added in the same millisecond. The holder matched a running
    /// job by the entry id alone: the held job of the other queue was answered `running`, and then ran.
    @Test func aHeldJobIsCancelledThoughAnotherQueuesRunningJobHasItsEntryID() async throws {
        let h = try EngineHarness()
        let key = "\(h.namespace):ran"
        let gate = TestGate()
        defer { gate.open() }
        let blocker = JobEnvelope(id: "blocker", type: GatedRecordJob.type, queue: "a", payload: h.diag(key: key, member: "blocker"), enqueuedAt: 0)
        try await h.redis.send("XADD", h.jobs.keys("a").stream, "5-0", "job", String(decoding: blocker.encoded(), as: UTF8.self))
        var options = WorkerOptions.fastTest(queues: ["a", "b"], concurrency: 1)
        options.pauseCheckInterval = .milliseconds(100)
        let (worker, task) = h.startWorker(.diagnostic(gatedBy: gate), options: options)
        #expect(try await h.eventually { gate.waiting == 1 }, "the blocker runs")
        let held = JobEnvelope(id: "held", type: "diag.record", queue: "b", payload: h.diag(key: key, member: "held"), enqueuedAt: 0)
        try await h.redis.send("XADD", h.jobs.keys("b").stream, "5-0", "job", String(decoding: held.encoded(), as: UTF8.self))
        #expect(try await h.eventually { try await h.jobs.info(queue: "b").inFlight == 1 }, "fetched, waiting for the runner")

        #expect(try await h.jobs.cancel(id: "held", queue: "b", holderWait: .seconds(20)) == .cancelled)
        gate.open()
        #expect(try await h.eventually { try await h.recorded(key)["blocker"] == 1 })
        worker.shutdown()
        try await task.value
        #expect(try await h.recorded(key) == ["blocker": 1], "the cancelled job never ran")
    }

    /// An entry held by a consumer that no worker answers for (a worker gone, or of an older release): after the wait the
    /// request is withdrawn, the job is left pending as it was, and the result says it is held, not cancelled. With no
    /// wait nothing is asked.
    @Test func aHolderThatDoesNotAnswerLeavesTheJobAsItWas() async throws {
        let h = try EngineHarness()
        let k = h.jobs.keys("default")
        let id = try #require(try await h.jobs.enqueue(type: "diag.record", payload: h.diag(key: "\(h.namespace):x", member: "m")).createdID)
        _ = try? await h.redis.send("XGROUP", "CREATE", k.stream, QueueKeys.group, "0", "MKSTREAM")
        let read = try await h.redis.send("XREADGROUP", "GROUP", QueueKeys.group, "ghost", "COUNT", "1", "STREAMS", k.stream, ">")
        #expect(read.array?.count == 1, "the ghost holds the entry")

        #expect(try await h.jobs.cancel(id: id, queue: "default", holderWait: .zero) == .running)
        #expect(try await h.redis.send("EXISTS", k.cancels).int == 0, "not asked")

        let started = ContinuousClock.now
        #expect(try await h.jobs.cancel(id: id, queue: "default", holderWait: .milliseconds(300)) == .held)
        #expect(ContinuousClock.now - started >= .milliseconds(300))
        #expect(try await h.redis.send("EXISTS", k.cancels).int == 0, "the unanswered request was withdrawn")
        #expect(try await h.jobs.find(id: id, queue: "default")?.state == .running(consumer: "ghost"))
    }

    /// A job that finishes while its cancel waits for an answer is not waited out: the canceller sees its entry is no
    /// longer pending, drops the request and looks again (not found: it finished), well before the wait ends.
    @Test func aJobThatFinishesWhileItsCancelWaitsIsLookedForAgain() async throws {
        let h = try EngineHarness()
        let k = h.jobs.keys("default")
        let id = try #require(try await h.jobs.enqueue(type: "diag.record", payload: h.diag(key: "\(h.namespace):x", member: "m")).createdID)
        _ = try? await h.redis.send("XGROUP", "CREATE", k.stream, QueueKeys.group, "0", "MKSTREAM")
        _ = try await h.redis.send("XREADGROUP", "GROUP", QueueKeys.group, "ghost", "COUNT", "1", "STREAMS", k.stream, ">")
        let entry = try #require(try await h.jobs.find(id: id, queue: "default")?.entryID)
        let finisher = Task {
            // The ghost finishes its job once the request is there, as a worker's acknowledgement would.
            while try await h.redis.send("HEXISTS", k.cancels, entry).int != 1 { try await Task.sleep(for: .milliseconds(5)) }
            _ = try await h.redis.send("XACK", k.stream, QueueKeys.group, entry)
            _ = try await h.redis.send("XDEL", k.stream, entry)
        }
        let started = ContinuousClock.now
        #expect(try await h.jobs.cancel(id: id, queue: "default", holderWait: .seconds(30)) == .notFound)
        #expect(ContinuousClock.now - started < .seconds(20), "waited out: \(ContinuousClock.now - started)")
        try await finisher.value
        #expect(try await h.redis.send("EXISTS", k.cancels).int == 0)
    }

    /// The holder's answer lands only while its request stands, and a request only for a pending entry: a canceller
    /// that gave up (withdrew) cannot have the job cancelled behind its back, and an entry settled before the request
    /// gets none.
    @Test func anAnswerNeedsAStandingRequestAndARequestAPendingEntry() async throws {
        let h = try EngineHarness()
        let k = h.jobs.keys("default")
        let store = h.jobs.store
        let id = try #require(try await h.jobs.enqueue(type: "diag.record", payload: h.diag(key: "\(h.namespace):x", member: "m")).createdID)
        let entry = try #require(try await h.jobs.find(id: id, queue: "default")?.entryID)
        #expect(try await store.requestCancel(queue: "default", entryID: entry, wait: .seconds(60)) == false, "ready, not pending: nothing asked")
        #expect(try await h.redis.send("EXISTS", k.cancels).int == 0)

        _ = try? await h.redis.send("XGROUP", "CREATE", k.stream, QueueKeys.group, "0", "MKSTREAM")
        _ = try await h.redis.send("XREADGROUP", "GROUP", QueueKeys.group, "ghost", "COUNT", "1", "STREAMS", k.stream, ">")
        #expect(try await store.requestCancel(queue: "default", entryID: entry, wait: .seconds(60)))
        #expect(try await store.closeCancelRequest(queue: "default", entryID: entry)?.hasPrefix(JobStore.cancelRequested) == true, "withdrawn unanswered")
        let late = JobStore.HeldCancel.cancel(id: id, uniqueKey: nil, record: Array("{}\n{}".utf8), answer: nil)
        #expect(try await store.answerCancel(queue: "default", entryID: entry, consumer: "ghost", job: late) == false)
        #expect(try await store.answerCancel(queue: "default", entryID: entry, consumer: "ghost", job: .running) == false)
        #expect(try await h.jobs.info(queue: "default").inFlight == 1, "still held, not cancelled")
        #expect(try await store.historyRecord(id: id, queue: "default") == nil)
        #expect(try await h.redis.send("EXISTS", k.cancels).int == 0, "an answer without a request writes none")

        // A request past its deadline (its canceller gone) is not acted on, and goes.
        #expect(try await store.requestCancel(queue: "default", entryID: entry, wait: .milliseconds(1)))
        try await Task.sleep(for: .milliseconds(1_200))  // its wait and the second of slack after it
        #expect(try await store.answerCancel(queue: "default", entryID: entry, consumer: "ghost", job: late) == false)
        #expect(try await h.redis.send("EXISTS", k.cancels).int == 0)

        #expect(try await store.requestCancel(queue: "default", entryID: entry, wait: .seconds(600)))
        // The hash outlives the longest wait of its requests, and a shorter request after it does not cut that short: a
        // `--wait` of a minute or more found its request expired and asked again.
        #expect((600...660).contains(try await h.redis.send("TTL", k.cancels).int ?? 0), "a request's hash expires after its wait")
        #expect(try await store.requestCancel(queue: "default", entryID: entry, wait: .seconds(1)))
        #expect((600...660).contains(try await h.redis.send("TTL", k.cancels).int ?? 0), "not shortened")
        #expect(try await store.answerCancel(queue: "default", entryID: entry, consumer: "another", job: late) == false, "not its holder")
        #expect(try await store.answerCancel(queue: "default", entryID: entry, consumer: "ghost", job: late))
        #expect(try await store.closeCancelRequest(queue: "default", entryID: entry) == "cancelled")
        #expect(try await h.jobs.info(queue: "default").inFlight == 0)
        #expect(try await h.jobs.find(id: id, queue: "default") == nil)
    }

    /// A request whose canceller died waiting stayed in the cancels hash for good while other cancels kept coming: each
    /// raises the hash's TTL, and workers ignored the expired request without removing it. A worker's read now removes a
    /// request a minute past its deadline; one less late, and the standing ones, stay.
    @Test func aRequestWhoseCancellerVanishedGoesAMinuteAfterItsDeadline() async throws {
        let h = try EngineHarness()
        let k = h.jobs.keys("default")
        let time = try await h.redis.send("TIME").array?.compactMap(\.string) ?? []
        let now = try #require(Int(time.first ?? "")) * 1000
        let grace = Int(JobStore.staleCancelRequestGrace.seconds * 1000)
        // Entries no worker holds: the requests are only read, never answered.
        try await h.redis.send(
            "HSET", k.cancels, "1-0", "requested \(now - grace - 5_000)", "2-0", "requested \(now - 5_000)",
            "3-0", "requested \(now + 600_000)", "4-0", "cancelled")
        // Another canceller's request keeps the hash alive, as on a queue cancelled in often.
        try await h.redis.send("EXPIRE", k.cancels, "660")

        var options = WorkerOptions.fastTest(concurrency: 1)
        options.pauseCheckInterval = .milliseconds(100)
        let (worker, task) = h.startWorker(.diagnostic, options: options)
        #expect(try await h.eventually { try await h.redis.send("HEXISTS", k.cancels, "1-0").int == 0 }, "the vanished canceller's request is removed")
        worker.shutdown()
        try await task.value
        let left = Set(try await h.redis.send("HKEYS", k.cancels).array?.compactMap(\.string) ?? [])
        #expect(left == ["2-0", "3-0", "4-0"], "a request less than a minute late, a standing one and an answer stay")
        #expect((0...660).contains(try await h.redis.send("TTL", k.cancels).int ?? -2), "the hash's TTL is left as it was")
    }
}
