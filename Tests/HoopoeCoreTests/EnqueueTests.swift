import Foundation
import HoopoeCore
import HoopoeJSON
import Redis
import TestSupport
import Testing

@Suite struct EnqueueTests {
    @Test func enqueueNowAndLaterLandInTheRightPlace() async throws {
        let h = try EngineHarness()
        let now = try await h.jobs.enqueue(type: "diag.record", payload: h.diag(key: "k", member: "a"))
        guard case .enqueued(let id) = now else { Issue.record("expected enqueued, got \(now)"); return }
        let before = Date().timeIntervalSince1970
        let later = try await h.jobs.enqueue(type: "diag.record", payload: .object([:]), options: .after(.seconds(60)))
        let after = Date().timeIntervalSince1970
        guard case .scheduled(let laterID) = later else { Issue.record("expected scheduled, got \(later)"); return }
        let info = try await h.jobs.info(queue: "default")
        #expect(info.ready == 1 && info.scheduled == 1)
        #expect(try await h.jobs.find(id: id, queue: "default")?.state == .ready)
        guard case .scheduled(let at)? = try await h.jobs.find(id: laterID, queue: "default")?.state else {
            Issue.record("delayed job not found as scheduled"); return
        }
        // Bounded by the clock around the call, not by a later reading: on a loaded pool the lookups above can take
        // seconds, which says nothing about where the job was scheduled.
        #expect(at >= before + 60 - 0.01 && at <= after + 60 + 0.01, "scheduled at \(at - before) s after the call began")
    }

    @Test func batchEnqueueKeepsOrderAndIsOneRoundTrip() async throws {
        let h = try EngineHarness()
        let batch = (0..<500).map { i in (type: "diag.record", payload: h.diag(key: "k", member: "m\(i)"), options: EnqueueOptions()) }
        let results = try await h.jobs.enqueueBatch(batch)
        #expect(results.count == 500)
        #expect(results.allSatisfy { $0.createdID != nil })
        let entries = try await h.redis.send("XRANGE", h.jobs.keys("default").stream, "-", "+").array ?? []
        let members = entries.compactMap { entry -> String? in
            guard let bytes = entry.array?.last?.array?.last?.bytes, let envelope = try? JobEnvelope.decode(bytes) else { return nil }
            return envelope.payload["member"].flatMap { if case .string(let s) = $0 { s } else { nil } }
        }
        #expect(members == (0..<500).map { "m\($0)" })
    }

    /// A large batch is prepared in two halves at once (JobQueue.prepareAll): the refusal is still the first bad job's
    /// in the batch's order, a refusal in either half writes nothing, and a good batch keeps its order.
    @Test func aLargeBatchRefusesItsFirstBadJobAndWritesNothing() async throws {
        let h = try EngineHarness()
        let size = 4 * JobQueue.parallelPreparationThreshold
        func batch(badAt bad: [Int: String]) -> [(type: String, payload: JSONValue, options: EnqueueOptions)] {
            (0..<size).map { i in (type: "diag.record", payload: h.diag(key: "k", member: "m\(i)"), options: EnqueueOptions(queue: bad[i] ?? "default")) }
        }
        for bad in [[3: "bad{one}", size - 2: "bad{two}"], [size - 2: "bad{two}"], [size / 2 - 1: "bad{one}", size / 2: "bad{two}"]] {
            let first = bad.keys.min()!
            await #expect {
                try await h.jobs.enqueueBatch(batch(badAt: bad))
            } throws: { error in
                "\(error)".contains("'\(bad[first]!)' is not a queue name")
            }
        }
        #expect(try await h.jobs.info(queue: "default").ready == 0, "a refused batch wrote jobs")
        let results = try await h.jobs.enqueueBatch(batch(badAt: [:]))
        let entries = try await h.redis.send("XRANGE", h.jobs.keys("default").stream, "-", "+").array ?? []
        let ids = entries.compactMap { entry in entry.array?.last?.array?.last?.bytes.flatMap { try? JobEnvelope.decode($0).id } }
        #expect(ids == results.compactMap(\.createdID) && ids.count == size)
    }

    /// A refused XADD threw at once: the batch's other plain jobs were written, its scripted ones never sent, and the
    /// error said nothing of either (sending it again ran the written ones twice). Every job's outcome now comes with
    /// the first error, and the scripted jobs after a refusal are sent (each job is independent).
    @Test func aBatchErrorSaysWhichJobsWereWritten() async throws {
        let h = try EngineHarness()
        _ = try await h.redis.send("SET", h.jobs.keys("b").stream, "not a stream")
        let batch: [(type: String, payload: JSONValue, options: EnqueueOptions)] = [
            (type: "diag.record", payload: h.diag(key: "k", member: "1"), options: EnqueueOptions(queue: "a")),
            (type: "diag.record", payload: h.diag(key: "k", member: "2"), options: EnqueueOptions(queue: "b")),
            (type: "diag.record", payload: h.diag(key: "k", member: "3"), options: EnqueueOptions(queue: "a", uniqueKey: "u3")),
            (type: "diag.record", payload: h.diag(key: "k", member: "4"), options: EnqueueOptions(queue: "b", uniqueKey: "u4")),
        ]
        do {
            let results = try await h.jobs.enqueueBatch(batch)
            Issue.record("no error: \(results)")
        } catch let error as EnqueueBatchError {
            let shape = error.outcomes.map { outcome -> String in
                switch outcome {
                case .written(.enqueued): "enqueued"
                case .written(let other): "\(other)"
                case .failed(let failure): "\(failure)".contains("WRONGTYPE") ? "wrongtype" : "failed: \(failure)"
                case .unknown: "unknown"
                }
            }
            #expect(shape == ["enqueued", "wrongtype", "enqueued", "wrongtype"])
            #expect("\(error.firstError)".contains("WRONGTYPE"))
            #expect("\(error)".contains("2 of 4 jobs not enqueued") && "\(error)".contains("2 written"))
        }
        #expect(try await h.jobs.info(queue: "a").ready == 2, "the plain and the unique job of queue a")
        // One job alone throws its own error, as before.
        await #expect(throws: RedisError.self) { try await h.jobs.enqueue(type: "diag.record", payload: .null, options: EnqueueOptions(queue: "b")) }
    }

    /// A batch's XADDs unconfirmed by the replicas (`REDIS_WAIT_REPLICAS`, none in sync) threw `notReplicated` alone,
    /// its delayed and unique jobs never sent, while the error said the writes had reached the primary: a caller that
    /// trusted it lost them. They are sent, and the error names each job's outcome.
    @Test func aBatchWhoseXADDsAreUnconfirmedStillSendsItsOtherJobs() async throws {
        let h = try EngineHarness()
        var configuration = try RedisConfiguration(url: try TestRedis.url())
        configuration.waitReplicas = 1
        configuration.waitTimeout = .milliseconds(50)
        let durable = RedisClient(configuration: configuration)
        defer { durable.close() }
        let jobs = JobQueue(redis: durable, namespace: h.jobs.namespace)
        do {
            _ = try await jobs.enqueueBatch([
                (type: "diag.record", payload: h.diag(key: "k", member: "1"), options: EnqueueOptions()),
                (type: "diag.record", payload: h.diag(key: "k", member: "2"), options: EnqueueOptions(runAt: Date() + 3600)),
            ])
            Issue.record("no error without a replica")
        } catch let error as EnqueueBatchError {
            guard case .unknown = error.outcomes[0] else { Issue.record("the XADD: \(error.outcomes[0])"); return }
            #expect("\(error.firstError)".contains("notReplicated") || (error.firstError as? RedisError)?.code == .notReplicated, "\(error.firstError)")
        }
        let info = try await h.jobs.info(queue: "default")
        #expect(info.ready == 1 && info.scheduled == 1, "both written on the primary: \(info)")
    }

    /// EnqueueOptions.id promised idempotent re-sends, but a unique or once-only job sent again with its id (its first
    /// reply lost) was reported `duplicate`/`alreadyEnqueued` of itself: no `createdID` for a job that is in.
    @Test func aJobSentAgainWithItsOwnIDIsReportedIn() async throws {
        let h = try EngineHarness()
        let later = Date().addingTimeInterval(3600)
        for options in [
            EnqueueOptions(uniqueKey: "own-u", id: "own-1"), EnqueueOptions(onceKey: "own-o", id: "own-2"),
            EnqueueOptions(runAt: later, uniqueKey: "own-s", id: "own-3"),
        ] {
            let first = try await h.jobs.enqueue(type: "diag.record", payload: .null, options: options)
            let again = try await h.jobs.enqueue(type: "diag.record", payload: .null, options: options)
            #expect(again == first && again.createdID == options.id, "\(options.id!): \(first), then \(again)")
        }
        // Another job with the same key is still refused, naming the one that holds it.
        let other = try await h.jobs.enqueue(type: "diag.record", payload: .null, options: EnqueueOptions(uniqueKey: "own-u", id: "own-9"))
        #expect(other == .duplicate(existingID: "own-1"))
        let info = try await h.jobs.info(queue: "default")
        #expect(info.ready == 2 && info.scheduled == 1)
    }

    /// A limit above the envelope's (512 KiB) let plain jobs be written that every worker buries on arrival.
    @Test func aQueueTakesNoLimitAboveTheEnvelopes() async throws {
        let h = try EngineHarness()
        let jobs = JobQueue(redis: h.redis, namespace: h.jobs.namespace, maxEnvelopeBytes: 1 << 20)
        #expect(jobs.maxEnvelopeBytes == 524_288)
        await #expect(throws: EnqueueError.self) {
            try await jobs.enqueue(type: "diag.record", payload: ["blob": .string(String(repeating: "x", count: 600 * 1024))])
        }
    }

    @Test func oversizedPayloadIsRefusedWithAClearError() async throws {
        let h = try EngineHarness()
        let big = JSONValue.object(["blob": .string(String(repeating: "x", count: 600 * 1024))])
        await #expect {
            try await h.jobs.enqueue(type: "diag.record", payload: big)
        } throws: { error in
            "\(error)".contains("over the 524288-byte limit")
        }
        #expect(try await h.jobs.info(queue: "default").ready == 0)
    }

    /// `envelopeBytes` is the size every enqueue writes, byte for byte, whatever the options and within a job's handler
    /// (`enqueued_by`): it runs the enqueue's own preparation, given its time. `hoopoe scheduler`'s start-up check
    /// measures each task's tick with it; it rebuilt the envelope from its public fields before, and any field the
    /// enqueue adds would have made the two disagree at the limit.
    @Test func envelopeBytesIsTheSizeTheEnqueueWrites() async throws {
        let h = try EngineHarness()
        let payload = h.diag(key: "k", member: "é\u{1F600}\"\\/")
        let cases: [EnqueueOptions] = [
            EnqueueOptions(),
            EnqueueOptions(queue: "a-longer.queue_name", onceKey: "schedule:t:1", onceFor: .seconds(60)),
            EnqueueOptions(
                runAt: Date().addingTimeInterval(3600), uniqueKey: "u1", uniqueFor: .seconds(90), maxAttempts: 7, timeout: .milliseconds(1500),
                notify: true),
            EnqueueOptions(uniqueKey: "u2", id: "own-id-1"),
        ]
        for options in cases {
            let result = try await CurrentJob.$id.withValue("parent-job-1") {
                try await h.jobs.enqueue(type: "diag.record", payload: payload, options: options)
            }
            let k = h.jobs.keys(options.queue)
            let stored: [UInt8]
            switch result {
            case .enqueued(let id):
                let entries = try await h.redis.send("XRANGE", k.stream, "-", "+").array ?? []
                let found = entries.compactMap { $0.array?.last?.array?.last?.bytes }.first { String(decoding: $0, as: UTF8.self).contains(id) }
                stored = try #require(found, "\(options)")
            case .scheduled(let id):
                stored = try #require(try await h.redis.send("HGET", k.scheduledJobs, id).bytes, "\(options)")
            default:
                Issue.record("\(options): \(result)")
                continue
            }
            let envelope = try JSONDecoder().decode(JobEnvelope.self, from: Data(stored))
            #expect(envelope.enqueuedBy == "parent-job-1")
            let measured = try h.jobs.envelopeBytes(
                type: "diag.record", payload: payload, options: options, enqueuedAt: envelope.enqueuedAt, enqueuedBy: "parent-job-1")
            #expect(measured == stored.count, "\(options): measured \(measured), written \(stored.count)")
            #expect(h.jobs.admits(envelopeBytes: h.jobs.maxEnvelopeBytes) && !h.jobs.admits(envelopeBytes: h.jobs.maxEnvelopeBytes + 1))
        }
    }

    @Test func aPayloadNumberJSONCannotCarryIsRefusedAndNothingIsWritten() async throws {
        let h = try EngineHarness()
        for number in [Double.nan, .infinity] {
            await #expect {
                try await h.jobs.enqueueBatch([
                    (type: "diag.record", payload: ["ok": 1], options: EnqueueOptions()),
                    (type: "diag.record", payload: ["ratio": .double(number)], options: EnqueueOptions()),
                ])
            } throws: { error in
                "\(error)".contains("NaN or infinity")
            }
        }
        #expect(try await h.jobs.info(queue: "default").ready == 0, "not even the good job of the batch")
    }

    @Test func badQueueNameIsRefused() async throws {
        let h = try EngineHarness()
        await #expect(throws: EnqueueError.self) {
            try await h.jobs.enqueue(type: "x", payload: .null, options: EnqueueOptions(queue: "bad{name}"))
        }
    }

    /// The job waits at a gate while the test checks "running" (a 300 ms sleep instead was a race a loaded parallel
    /// phase could lose).
    @Test func uniqueIsRefusedWhilePendingAndRunningAcceptedAfterFinish() async throws {
        let h = try EngineHarness()
        let gate = TestGate()
        defer { gate.open() }
        let first = try await h.jobs.enqueue(type: GatedRecordJob.type, payload: h.diag(key: "\(h.namespace):u", member: "one"), options: EnqueueOptions(uniqueKey: "user-7"))
        guard let firstID = first.createdID else { Issue.record("first refused: \(first)"); return }
        // Pending: refused, and the answer names the job holding the key.
        #expect(try await h.jobs.enqueue(type: "diag.record", payload: .object([:]), options: EnqueueOptions(uniqueKey: "user-7")) == .duplicate(existingID: firstID))

        let (worker, task) = h.startWorker(.diagnostic(gatedBy: gate))
        #expect(try await h.eventually { try await h.jobs.info(queue: "default").inFlight == 1 })
        // Running: still refused.
        #expect(try await h.jobs.enqueue(type: "diag.record", payload: .object([:]), options: EnqueueOptions(uniqueKey: "user-7")) == .duplicate(existingID: firstID))
        gate.open()
        #expect(try await h.eventually { try await h.recorded("\(h.namespace):u")["one"] == 1 })
        // Finished: accepted.
        #expect(try await h.eventually {
            try await h.jobs.enqueue(type: "diag.record", payload: h.diag(key: "\(h.namespace):u", member: "two"), options: EnqueueOptions(uniqueKey: "user-7")).createdID != nil
        })
        worker.shutdown()
        try await task.value
    }

    @Test func uniqueIsAcceptedAgainAfterTheTTL() async throws {
        let h = try EngineHarness()
        let options = EnqueueOptions(uniqueKey: "short", uniqueFor: .seconds(2))
        let lock = h.jobs.keys("default").unique("short")
        let start = ContinuousClock.now
        #expect(try await h.jobs.enqueue(type: "x", payload: .null, options: options).createdID != nil)
        let ttl = try await h.redis.send("PTTL", lock).int ?? -2
        // Gone (-2) only when the TTL has passed since the enqueue began (a loaded test pool can take that long).
        #expect((ttl > 0 && ttl <= 2_000) || (ttl == -2 && ContinuousClock.now - start >= .seconds(2)), "the lock lives uniqueFor: \(ttl) ms")
        let refused = try await h.jobs.enqueue(type: "x", payload: .null, options: options).createdID == nil
        // Refused within the TTL; a loaded machine that took longer than the TTL between the calls is told apart
        // by the clock, not failed.
        #expect(refused || ContinuousClock.now - start >= .seconds(2), "a duplicate within the TTL was accepted")
        #expect(try await h.eventually(timeout: .seconds(5)) { (try await h.redis.send("EXISTS", lock).int ?? 1) == 0 }, "the lock expires")
        #expect(try await h.jobs.enqueue(type: "x", payload: .null, options: options).createdID != nil)
    }

    /// A write Redis refuses (the queue's stream or scheduled set a key of another type) gives back the unique lock and
    /// the once-key the same call took: they outlived the error, and every later enqueue of the key was refused as a
    /// duplicate of a job never written (for a day), or as already enqueued (for a week).
    @Test func aRefusedWriteGivesBackTheLockAndTheOnceKey() async throws {
        let h = try EngineHarness()
        let keys = h.jobs.keys("default")
        for (target, runAt) in [(keys.stream, nil as Date?), (keys.scheduled, Date().addingTimeInterval(3600))] {
            try await h.redis.send("SET", target, "not a stream or a sorted set")
            let options = EnqueueOptions(runAt: runAt, uniqueKey: "refused", onceKey: "refused-once")
            await #expect(throws: RedisError.self) { try await h.jobs.enqueue(type: "x", payload: .null, options: options) }
            #expect(try await h.redis.send("EXISTS", keys.unique("refused"), keys.once("refused-once")).int == 0, "\(target): the keys were given back")
            try await h.redis.send("DEL", target)
            #expect(try await h.jobs.enqueue(type: "x", payload: .null, options: options).createdID != nil, "\(target): enqueued once the key is mended")
            try await h.redis.send("DEL", keys.unique("refused"), keys.once("refused-once"))
        }
    }

    @Test func onceKeyEnqueuesOnlyOnce() async throws {
        let h = try EngineHarness()
        let options = EnqueueOptions(onceKey: "tick:1700000000")
        let first = try await h.jobs.enqueue(type: "x", payload: .null, options: options)
        #expect(first.createdID != nil)
        #expect(try await h.jobs.enqueue(type: "x", payload: .null, options: options) == .alreadyEnqueued(existingID: first.createdID!))
    }

    @Test func cancelPendingAndDelayedButNotRunning() async throws {
        let h = try EngineHarness()
        let ready = try await h.jobs.enqueue(type: "diag.record", payload: .object([:]), options: EnqueueOptions(uniqueKey: "c1")).createdID!
        let delayed = try await h.jobs.enqueue(type: "diag.record", payload: .object([:]), options: .after(.seconds(3600))).createdID!
        #expect(try await h.jobs.cancel(id: ready, queue: "default") == .cancelled)
        #expect(try await h.jobs.cancel(id: delayed, queue: "default") == .cancelled)
        #expect(try await h.jobs.cancel(id: "nope", queue: "default") == .notFound)
        let info = try await h.jobs.info(queue: "default")
        #expect(info.ready == 0 && info.scheduled == 0)
        // The unique lock went with the cancelled job.
        #expect(try await h.jobs.enqueue(type: "x", payload: .null, options: EnqueueOptions(uniqueKey: "c1")).createdID != nil)
    }

    /// A `notify` job cancelled while it waits answers its waiter with `cancelled`, ready or delayed, instead of leaving
    /// it to wait out its timeout; a job without `notify` gets no answer list.
    @Test func aCancelledNotifyJobAnswersCancelled() async throws {
        let h = try EngineHarness()
        let ready = try await h.jobs.enqueue(type: "diag.record", payload: .object([:]), options: EnqueueOptions(notify: true)).createdID!
        var later = EnqueueOptions.after(.seconds(3600))
        later.notify = true
        let delayed = try await h.jobs.enqueue(type: "diag.record", payload: .object([:]), options: later).createdID!
        let silent = try await h.jobs.enqueue(type: "diag.record", payload: .object([:])).createdID!
        for id in [ready, delayed, silent] { #expect(try await h.jobs.cancel(id: id, queue: "default") == .cancelled) }
        for id in [ready, delayed] {
            let ttl = try await h.redis.send("TTL", h.jobs.keys("default").answer(id)).int ?? 0
            #expect((1...3600).contains(ttl), "kept an hour, as any answer: \(ttl)")
            let reply = try await h.redis.send("BLPOP", h.jobs.keys("default").answer(id), "1").array ?? []
            let answer = try #require(reply.last?.bytes.flatMap { JSONValue.parse($0) }, "no answer for \(id)")
            #expect(answer["outcome"] == .string("cancelled") && answer["id"] == .string(id) && answer["attempt"] == .integer(0), "\(answer)")
        }
        #expect(try await h.redis.send("EXISTS", h.jobs.keys("default").answer(silent)).int == 0)
    }
}
