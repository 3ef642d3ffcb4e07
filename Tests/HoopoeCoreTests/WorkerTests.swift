import Foundation
import HoopoeCore
import HoopoeJSON
import Redis
import Synchronization
import TestSupport
import Testing

/// A handler that always fails, for the retry and dead-set paths.
struct AlwaysFails: JobHandler {
    struct Payload: Codable, Sendable {}
    static let type = "test.always_fails"
    var maxAttempts: Int { 3 }
    var retryPolicy: RetryPolicy { .fixed(0) }
    func run(_ payload: Payload, context: JobContext) async throws {
        throw JobFailure.retry("provider said no (attempt \(context.attempt))")
    }
}

/// A handler whose payload has required fields, to see decoding failures reported.
struct NeedsPhone: JobHandler {
    struct Payload: Codable, Sendable {
        let phone: String
        let count: Int
    }
    static let type = "test.needs_phone"
    func run(_ payload: Payload, context: JobContext) async throws {}
}

/// Sleeps far longer than its timeout.
struct Sleepy: JobHandler {
    struct Payload: Codable, Sendable {}
    static let type = "test.sleepy"
    var timeout: Duration { .milliseconds(200) }
    var maxAttempts: Int { 1 }
    func run(_ payload: Payload, context: JobContext) async throws {
        try await Task.sleep(for: .seconds(30))
    }
}

/// Waits, ignoring cancellation, until the test lets it go: a handler that does not honour its timeout (a
/// synchronous library call, a loop that never checks).
struct Stubborn: JobHandler {
    struct Payload: Codable, Sendable {}
    static let type = "test.stubborn"
    /// Let go at the end of the test that uses it.
    static let release = TestGate()
    var timeout: Duration { .milliseconds(200) }
    var maxAttempts: Int { 1 }
    func run(_ payload: Payload, context: JobContext) async throws {
        await Self.release.wait()
    }
}

/// Discards or fails permanently, as told by the payload.
struct Verdict: JobHandler {
    struct Payload: Codable, Sendable { let verdict: String }
    static let type = "test.verdict"
    func run(_ payload: Payload, context: JobContext) async throws {
        switch payload.verdict {
        case "discard": throw JobFailure.discard("obsolete")
        case "permanent": throw JobFailure.permanent("the number is invalid")
        default: return
        }
    }
}

@Suite struct WorkerTests {
    @Test func runsEveryJob() async throws {
        let h = try EngineHarness()
        let key = "\(h.namespace):ran"
        _ = try await h.jobs.enqueueBatch((0..<2_000).map { (type: "diag.record", payload: h.diag(key: key, member: "m\($0)"), options: EnqueueOptions()) })
        let (worker, task) = h.startWorker()
        #expect(try await eventually(reaching: 2_000) { try await h.recorded(key).count })
        worker.shutdown()
        try await task.value
        let counts = try await h.recorded(key)
        #expect(counts.values.allSatisfy { $0 == 1 })
        let info = try await h.jobs.info(queue: "default")
        #expect(info.ready == 0 && info.inFlight == 0)
        let counters = try await h.jobs.counters(queue: "default")
        #expect(counters["processed"] == 2_000 && counters["processed:diag.record"] == 2_000)
    }

    @Test func idleWorkerIsWokenByTheEnqueueNotByAPoll() async throws {
        let h = try EngineHarness()
        let key = "\(h.namespace):fast"
        // The fetch blocks for up to 30 s: a job that starts well before that was delivered by the
        // blocked XREADGROUP waking on the XADD, not by a later poll, which could come no sooner than
        // ~29.7 s after the enqueue. The bound is wide on purpose: CI's parallel phase once took 3.3 s
        // on its 2 loaded cores. (Latency itself is measured in `make bench`, not here.)
        var options = WorkerOptions.fastTest()
        options.fetchBlock = .seconds(30)
        options.promoteInterval = .seconds(30)
        let (worker, task) = h.startWorker(options: options)
        #expect(try await h.eventually { (try await h.redis.send("EXISTS", h.jobs.keys("default").stream).int ?? 0) == 1 })
        try await Task.sleep(for: .milliseconds(300))  // idle, blocked in XREADGROUP
        let start = ContinuousClock.now
        try await h.jobs.enqueue(type: "diag.record", payload: h.diag(key: key, member: "x"))
        #expect(try await h.eventually(timeout: .seconds(25)) { try await h.recorded(key)["x"] == 1 })
        let elapsed = ContinuousClock.now - start
        #expect(elapsed < .seconds(20), "took \(elapsed): the blocked fetch should have woken on the enqueue")
        worker.shutdownNow()
        try await task.value
    }

    @Test func alwaysFailingJobEndsDeadAfterMaxAttempts() async throws {
        let h = try EngineHarness()
        var registry = JobRegistry.diagnostic
        registry.register(AlwaysFails())
        let id = try await h.jobs.enqueue(type: AlwaysFails.type, payload: .object([:])).createdID!
        let (worker, task) = h.startWorker(registry)
        #expect(try await h.eventually { try await h.jobs.info(queue: "default").dead == 1 })
        worker.shutdown()
        try await task.value
        let dead = try await h.jobs.deadJobs(queue: "default")
        try #require(dead.count == 1)  // a timed-out wait must fail the test, not trap the test process on dead[0]
        #expect(dead[0].id == id)
        #expect(dead[0].attempt == 3)
        #expect(dead[0].deadReason == "failed 3 of 3 attempts")
        #expect(dead[0].lastError == "provider said no (attempt 3)")
        let counters = try await h.jobs.counters(queue: "default")
        #expect(counters["retried"] == 2 && counters["dead"] == 1 && counters["failed"] == 3)
    }

    @Test func retryIsScheduledPerThePolicy() async throws {
        let h = try EngineHarness()
        struct FailsOnce: JobHandler {
            struct Payload: Codable, Sendable {}
            static let type = "test.fails_once"
            func run(_ payload: Payload, context: JobContext) async throws { throw JobFailure.retry("first try fails") }
        }
        var registry = JobRegistry()
        registry.register(FailsOnce())
        let id = try await h.jobs.enqueue(type: FailsOnce.type, payload: .object([:])).createdID!
        let before = Date().timeIntervalSince1970
        let (worker, task) = h.startWorker(registry)
        #expect(try await h.eventually { try await h.jobs.info(queue: "default").scheduled == 1 })
        let after = Date().timeIntervalSince1970
        worker.shutdown()
        try await task.value
        guard case .scheduled(let due)? = try await h.jobs.find(id: id, queue: "default")?.state else {
            Issue.record("the retry is not scheduled"); return
        }
        // Sidekiq's curve after attempt 1: 1 + 15 + rand(0..<20) seconds.
        #expect(due >= before + 16 && due < after + 36)
        let found = try await h.jobs.find(id: id, queue: "default")
        #expect(found?.envelope.attempt == 1 && found?.envelope.lastError == "first try fails")
    }

    @Test func sidekiqScheduleIsComputedExactly() {
        let policy = RetryPolicy.sidekiq
        #expect(policy.delay(afterAttempt: 1, unit: 0) == 16)
        #expect(policy.delay(afterAttempt: 1, unit: 0.999) == 35)
        #expect(policy.delay(afterAttempt: 5, unit: 0) == 640)
        #expect(policy.delay(afterAttempt: 5, unit: 0.5) == 670)
        #expect(policy.delay(afterAttempt: 25, unit: 0) == 390_640)
        // 25 attempts take about 20 days at the low end.
        let total = (1..<25).reduce(0.0) { $0 + policy.delay(afterAttempt: $1, unit: 0) }
        #expect(total > 17 * 86_400 && total < 21 * 86_400)
        let exponential = RetryPolicy.exponential(base: 2, limit: 60, jitter: 0)
        #expect(exponential.delay(afterAttempt: 1, unit: 0.3) == 2 && exponential.delay(afterAttempt: 4, unit: 0.3) == 16)
        #expect(exponential.delay(afterAttempt: 30, unit: 0.3) == 60)
    }

    /// A dead set Redis refuses (its key holds another type: an operator's mistake) does not lose the job it was
    /// to take: the job stays delivered, and once the key is fixed it is buried after its lease, not gone.
    @Test func aJobTheDeadSetRefusesIsNotLost() async throws {
        let h = try EngineHarness()
        let keys = h.jobs.keys("default")
        try await h.redis.send("SET", keys.dead, "not a sorted set")
        try await h.redis.send("XADD", keys.stream, "*", "job", #"{"id":"j-refused","type":"no.such.job","payload":{}}"#)
        let (worker, task) = h.startWorker(.diagnostic, options: .fastTest(lease: .seconds(1)))
        // Delivered (pending: the group exists once the worker has started).
        #expect(try await h.eventually {
            guard let pending = try? await h.redis.send("XPENDING", keys.stream, QueueKeys.group) else { return false }
            return pending.array?.first?.int == 1
        })
        try await Task.sleep(for: .milliseconds(300))
        #expect(try await h.redis.send("XLEN", keys.stream).int == 1, "the entry is still in the stream")
        try await h.redis.send("DEL", keys.dead)
        #expect(try await h.eventually { try await h.jobs.deadJob(id: "j-refused", queue: "default") != nil })
        worker.shutdown()
        try await task.value
        #expect(try await h.redis.send("XLEN", keys.stream).int == 0)
    }

    @Test func badInputGoesToTheDeadSetWithItsReasonAndTheWorkerGoesOn() async throws {
        let h = try EngineHarness()
        var registry = JobRegistry.diagnostic
        registry.register(NeedsPhone())
        let stream = h.jobs.keys("default").stream
        // Written straight to the stream, as a careless service would.
        let bad: [(String, String)] = [
            ("not json", "this is { not json"),
            ("missing fields", #"{"id":"j-missing","payload":{}}"#),
            ("unknown type", #"{"id":"j-unknown","type":"no.such.job","payload":{"name":"x","password":"hunter2"}}"#),
            ("wrong payload", #"{"id":"j-payload","type":"test.needs_phone","payload":{"phone":989121234567}}"#),
            // Passes the worker's one-pass scan (it skips \u escapes) but is not valid JSON (a lone surrogate).
            ("lone surrogate", #"{"id":"j-surrogate","type":"test.needs_phone","payload":{"phone":"\ud800","count":1}}"#),
            ("too large", #"{"id":"j-large","type":"diag.record","payload":{"blob":""# + String(repeating: "x", count: 600 * 1024) + #""}}"#),
        ]
        for (_, body) in bad { try await h.redis.send("XADD", stream, "*", "job", body) }
        let good = "\(h.namespace):good"
        try await h.jobs.enqueue(type: "diag.record", payload: h.diag(key: good, member: "after"))
        let (worker, task) = h.startWorker(registry)
        #expect(try await h.eventually { try await h.recorded(good)["after"] == 1 })
        #expect(try await h.eventually { try await h.jobs.info(queue: "default").dead == bad.count })
        worker.shutdown()
        try await task.value

        let dead = try await h.jobs.deadJobs(queue: "default")
        let reasons = dead.map { $0.deadReason ?? "" }
        #expect(reasons.contains { $0.hasPrefix("not a valid job envelope") })
        #expect(reasons.contains { $0.contains("missing key 'type'") })
        #expect(reasons.contains { $0.contains("unknown job type 'no.such.job'; this worker runs: diag.record, test.needs_phone") })
        // A type no handler declares keeps nothing that is usually a secret (PayloadRedaction.commonSecretKeys).
        #expect(dead.first { $0.id == "j-unknown" }?.payload == ["name": "x"])
        #expect(reasons.contains { $0.contains("payload does not match test.needs_phone") && $0.contains("payload.phone should be a string") })
        #expect(reasons.contains { $0.contains("over the 524288-byte limit") })
        // The malformed one is kept with its raw text, so nothing sent is lost.
        #expect(dead.contains { $0.type == "(malformed)" && $0.payload == .string("this is { not json") })
        // The one the scan let through is kept whole too, payload and all, not rebuilt without it.
        #expect(dead.contains { $0.type == "(malformed)" && $0.payload.stringValue?.contains(#""phone":"\ud800""#) == true && $0.deadReason?.hasPrefix("not a valid job envelope") == true })
    }

    @Test func handlerVerdictsDiscardAndPermanent() async throws {
        let h = try EngineHarness()
        var registry = JobRegistry()
        registry.register(Verdict())
        try await h.jobs.enqueue(type: Verdict.type, payload: .object(["verdict": .string("discard")]))
        let permanent = try await h.jobs.enqueue(type: Verdict.type, payload: .object(["verdict": .string("permanent")])).createdID!
        let (worker, task) = h.startWorker(registry)
        #expect(try await h.eventually {
            let c = try await h.jobs.counters(queue: "default")
            return c["discarded"] == 1 && c["dead"] == 1
        })
        worker.shutdown()
        try await task.value
        let dead = try await h.jobs.deadJobs(queue: "default")
        #expect(dead.map(\.id) == [permanent])
        #expect(dead.first?.attempt == 1)
        #expect(dead.first?.deadReason == "failed permanently: the number is invalid")
    }

    @Test func timeoutCancelsTheHandlerAndFailsTheAttempt() async throws {
        let h = try EngineHarness()
        var registry = JobRegistry()
        registry.register(Sleepy())
        try await h.jobs.enqueue(type: Sleepy.type, payload: .object([:]))
        let (worker, task) = h.startWorker(registry)
        // The handler sleeps 30 s: dead within the wait's 20 s only if the timeout cut it short (no timing measured).
        #expect(try await h.eventually(timeout: .seconds(20)) { try await h.jobs.info(queue: "default").dead == 1 })
        worker.shutdown()
        try await task.value
        let dead = try await h.jobs.deadJobs(queue: "default")
        #expect(dead.first?.lastError?.hasPrefix("timed out after 0.2 seconds") == true)
    }

    /// The handler runs in its runner's task (RunningJob): one that ignores its timeout must not keep the runner, nor
    /// the worker's shutdown, waiting. One runner only, so the jobs after it run only if the runner was replaced.
    @Test func aHandlerThatIgnoresItsTimeoutHoldsNeitherItsRunnerNorShutdown() async throws {
        let h = try EngineHarness()
        var registry = JobRegistry.diagnostic
        registry.register(Stubborn())
        let key = "\(h.namespace):after"
        try await h.jobs.enqueue(type: Stubborn.type, payload: .object([:]))
        _ = try await h.jobs.enqueueBatch((0..<5).map { (type: "diag.record", payload: h.diag(key: key, member: "m\($0)"), options: EnqueueOptions()) })
        let (worker, task) = h.startWorker(registry, options: .fastTest(concurrency: 1))
        defer { Stubborn.release.open() }
        #expect(try await h.eventually(timeout: .seconds(20)) { try await h.jobs.info(queue: "default").dead == 1 })
        #expect(try await eventually(reaching: 5) { try await h.recorded(key).count }, "the jobs behind it ran on the one runner")
        let dead = try await h.jobs.deadJobs(queue: "default")
        #expect(dead.first?.lastError?.hasPrefix("timed out after 0.2 seconds") == true)
        // The handler is still waiting: the worker stops anyway (shutdown's 2 s are not spent on it either).
        worker.shutdown()
        try await task.value
        #expect(worker.busy == 0)
    }

    /// One runner takes jobs of several types in a row, an unknown one among them: each runs its own type's handler
    /// (the runner keeps its last job's registry entry, ``Worker/execute(_:slot:lastEntry:)``), and the unknown one is
    /// buried, not run as the type before it.
    @Test func oneRunnerRunsEachTypesOwnHandlerInAnyOrder() async throws {
        let h = try EngineHarness()
        var registry = JobRegistry.diagnostic
        registry.register(DiagIncrJob())
        let counter = "\(h.namespace):count"
        let key = "\(h.namespace):ran"
        let types = ["diag.incr", "diag.record", "diag.record", "no.such.job", "diag.incr", "diag.incr", "no.such.job", "diag.record"]
        _ = try await h.jobs.enqueueBatch(types.enumerated().map { index, type in
            (type: type, payload: type == "diag.incr" ? .object(["key": .string(counter)]) : h.diag(key: key, member: "m\(index)"), options: EnqueueOptions())
        })
        let (worker, task) = h.startWorker(registry, options: .fastTest(concurrency: 1))
        #expect(try await h.eventually { try await h.jobs.info(queue: "default").dead == 2 })
        #expect(try await eventually(reaching: 3) { try await h.recorded(key).count })
        worker.shutdown()
        try await task.value
        #expect(try await h.recorded(key) == ["m1": 1, "m2": 1, "m7": 1])
        #expect(try await h.redis.send("GET", counter).string == "3")
        let reasons = try await h.jobs.deadJobs(queue: "default").map { $0.deadReason ?? "" }
        #expect(reasons.count == 2 && reasons.allSatisfy { $0.hasPrefix("unknown job type 'no.such.job'") }, "\(reasons)")
    }

    @Test func delayedJobsNeverRunEarly() async throws {
        let h = try EngineHarness()
        let key = "\(h.namespace):delayed"
        struct Stamp: JobHandler {
            struct Payload: Codable, Sendable { let key: String; let due: Double; let member: String }
            static let type = "test.stamp"
            func run(_ payload: Payload, context: JobContext) async throws {
                let now = Date().timeIntervalSince1970
                try await context.redis.send("HSET", payload.key, payload.member, String(now - payload.due))
            }
        }
        var registry = JobRegistry()
        registry.register(Stamp())
        let (worker, task) = h.startWorker(registry)
        let base = Date().timeIntervalSince1970
        var batch: [(type: String, payload: JSONValue, options: EnqueueOptions)] = []
        for i in 0..<50 {
            let due = base + 0.3 + Double(i % 10) * 0.1
            batch.append((Stamp.type, .object(["key": .string(key), "due": .double(due), "member": .string("m\(i)")]), EnqueueOptions(runAt: Date(timeIntervalSince1970: due))))
        }
        _ = try await h.jobs.enqueueBatch(batch)
        #expect(try await h.eventually { (try await h.redis.send("HLEN", key).int ?? 0) == 50 })
        worker.shutdown()
        try await task.value
        let lateness = (try await h.redis.send("HVALS", key).array ?? []).compactMap { $0.string.flatMap(Double.init) }
        #expect(lateness.count == 50)
        #expect(lateness.allSatisfy { $0 >= 0 }, "a job ran before its time: \(lateness.filter { $0 < 0 })")
    }

    @Test func weightedQueuesShareByWeightAndStrictOrderDrainsInOrder() async throws {
        for strict in [false, true] {
            let h = try EngineHarness("weighted\(strict)")
            let key = "\(h.namespace):order"
            struct Order: JobHandler {
                struct Payload: Codable, Sendable { let key: String; let queue: String }
                static let type = "test.order"
                func run(_ payload: Payload, context: JobContext) async throws {
                    try await context.redis.send("RPUSH", payload.key, payload.queue)
                }
            }
            var registry = JobRegistry()
            registry.register(Order())
            for queue in ["critical", "default", "low"] {
                _ = try await h.jobs.enqueueBatch((0..<300).map { _ in
                    (type: Order.type, payload: .object(["key": .string(key), "queue": .string(queue)]), options: EnqueueOptions(queue: queue))
                })
            }
            var options = WorkerOptions.fastTest(queues: ["critical", "default", "low"], concurrency: 1)
            options.queues = try QueueSelection(parsing: "critical:6,default:3,low:1", strict: strict)
            options.prefetch = 300
            let (worker, task) = h.startWorker(registry, options: options)
            #expect(try await eventually(reaching: 300) { try await h.redis.send("LLEN", key).int ?? 0 })
            worker.shutdown()
            try await task.value
            let first = (try await h.redis.send("LRANGE", key, "0", "299").array ?? []).compactMap(\.string)
            let counts = Dictionary(first.map { ($0, 1) }, uniquingKeysWith: +)
            if strict {
                #expect(counts["critical"] == 300, "strict order ran \(counts)")
            } else {
                // 6:3:1 of 300 is 180:90:30; allow for randomness.
                #expect((140...220).contains(counts["critical"] ?? 0), "weighted ran \(counts)")
                #expect((55...125).contains(counts["default"] ?? 0), "weighted ran \(counts)")
                #expect((10...55).contains(counts["low"] ?? 0), "weighted ran \(counts)")
            }
        }
    }

    /// `hoopoe dead retry-all` after a deploy that did not fix the jobs: each dead job is retried once, and the call
    /// ends, though the worker buries every retried job again while it runs (it used to meet them again at the end
    /// of the set and retry them for ever).
    @Test(.timeLimit(.minutes(1))) func retryAllDeadEndsWhileTheRetriedJobsDieAgain() async throws {
        let h = try EngineHarness()
        _ = try await h.jobs.enqueueBatch((0..<150).map { _ in (type: "not.deployed", payload: .object([:]), options: EnqueueOptions()) })
        let (worker, task) = h.startWorker()
        #expect(try await h.eventually { try await h.jobs.info(queue: "default").dead == 150 })
        // A malformed dead entry, kept for inspection, stays where it is and is passed over (died a minute ago: the
        // dead set's age limit would trim an older one at the next burial).
        _ = try await h.redis.pipeline([
            RedisCommand("ZADD", h.jobs.keys("default").dead, String(Date().timeIntervalSince1970 - 60), "kept-as-text"), RedisCommand("HSET", h.jobs.keys("default").deadJobs, "kept-as-text", "not json"),
        ])
        let moved = try await h.jobs.retryAllDead(queue: "default")
        #expect(moved.done == 150 && moved.skipped == 1, "\(moved)")
        #expect(try await h.eventually { try await h.jobs.info(queue: "default").dead == 151 })
        worker.shutdown()
        try await task.value
        #expect(try await h.jobs.counters(queue: "default")["dead"] == 300, "each job buried twice: once before, once after its one retry")
    }

    /// A job of a type no worker ran, buried without its secret-named payload keys, names them, and is not retried:
    /// `retry-all` after the type's deploy ran it without them, and said nothing.
    @Test func aDeadJobThatLostSecretKeysIsNotRetried() async throws {
        let h = try EngineHarness()
        try await h.jobs.enqueue(type: "not.deployed.yet", payload: ["name": "x", "password": "hunter2", "auth": ["token": "t"]], options: EnqueueOptions(id: "lost-keys"))
        try await h.jobs.enqueue(type: "not.deployed.yet", payload: ["name": "y"], options: EnqueueOptions(id: "kept-whole"))
        let (worker, task) = h.startWorker()
        #expect(try await h.eventually { try await h.jobs.info(queue: "default").dead == 2 })
        worker.shutdown()
        try await task.value
        let dead = try #require(try await h.jobs.deadJob(id: "lost-keys", queue: "default"))
        #expect(dead.withheldKeys == ["auth.token", "password"])
        #expect(dead.payload == ["name": "x", "auth": .object([:])])
        #expect(dead.deadReason?.contains("its payload's auth.token, password were withheld as secrets, so it cannot be retried") == true, "\(dead.deadReason ?? "")")
        #expect(try await h.jobs.deadJob(id: "kept-whole", queue: "default")?.withheldKeys == nil)
        await #expect {
            try await h.jobs.retryDead(id: "lost-keys", queue: "default")
        } throws: { error in
            "\(error)".contains("dead job lost-keys cannot be retried: its payload lost auth.token, password when it was buried")
        }
        let all = try await h.jobs.retryAllDead(queue: "default")
        #expect(all == JobQueue.DeadBatchResult(done: 1, skipped: 1))
        #expect(try await h.jobs.deadJob(id: "lost-keys", queue: "default") != nil, "left dead")
        #expect(try await h.jobs.find(id: "kept-whole", queue: "default")?.state == .ready)
    }

    /// A dead set at its cap whose deaths another worker scored an hour ahead (its clock runs fast): the job this worker
    /// buries stays, the oldest goes. Scored by this worker's clock alone, it had the lowest score and the count trim
    /// removed it in the same script: gone from `dead list`, the dashboard and retry.
    @Test func aJobBuriedByAWorkerWhoseClockIsBehindStaysInAFullDeadSet() async throws {
        let h = try EngineHarness()
        let keys = h.jobs.keys("default")
        let ahead = Date().timeIntervalSince1970 + 3600
        for n in 0..<3 {
            try await h.redis.send("ZADD", keys.dead, String(ahead + Double(n)), "ahead-\(n)")
            try await h.redis.send("HSET", keys.deadJobs, "ahead-\(n)", #"{"id":"ahead-\#(n)","type":"x","payload":{}}"#)
        }
        var registry = JobRegistry.diagnostic
        registry.register(Verdict())
        let id = try #require(try await h.jobs.enqueue(type: Verdict.type, payload: .object(["verdict": .string("permanent")])).createdID)
        var options = WorkerOptions.fastTest()
        options.deadMaxJobs = 3
        let (worker, task) = h.startWorker(registry, options: options)
        #expect(try await h.eventually { (try await h.jobs.counters(queue: "default"))["dead"] == 1 })
        worker.shutdown()
        try await task.value
        let dead = try await h.jobs.deadJobs(queue: "default").map(\.id)
        #expect(dead.count == 3 && dead.contains(id) && !dead.contains("ahead-0"), "\(dead)")
    }

    @Test func deadSetRetryDeleteAndCap() async throws {
        let h = try EngineHarness()
        var registry = JobRegistry.diagnostic
        registry.register(Verdict())
        _ = try await h.jobs.enqueueBatch((0..<8).map { _ in (type: Verdict.type, payload: .object(["verdict": .string("permanent")]), options: EnqueueOptions()) })
        var options = WorkerOptions.fastTest()
        options.deadMaxJobs = 5
        let (worker, task) = h.startWorker(registry, options: options)
        #expect(try await h.eventually { (try await h.jobs.counters(queue: "default"))["dead"] == 8 })
        worker.shutdown()
        try await task.value
        let dead = try await h.jobs.deadJobs(queue: "default")
        try #require(dead.count == 5, "capped by count")
        #expect(try await h.jobs.deleteDead(id: dead[0].id, queue: "default"))
        #expect(try await h.jobs.retryDead(id: dead[1].id, queue: "default"))
        #expect(try await h.jobs.retryAllDead(queue: "default") == JobQueue.DeadBatchResult(done: 3))
        let info = try await h.jobs.info(queue: "default")
        #expect(info.dead == 0 && info.ready == 4)
        let found = try await h.jobs.find(id: dead[1].id, queue: "default")
        #expect(found?.state == .ready && found?.envelope.attempt == 0 && found?.envelope.deadReason == nil)
    }
}
