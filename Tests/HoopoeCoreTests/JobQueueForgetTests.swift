import Foundation
import HoopoeCore
import HoopoeJSON
import Redis
import TestSupport
import Testing

/// `JobQueue.forget`: a retired queue's every key removed, and its name from the shared sets and hashes, and nothing of
/// another queue; refused while it holds a job or a live worker serves it; `force` removes its jobs and counts them.
@Suite struct JobQueueForgetTests {
    /// Every key of the namespace (one server: the test Redis), by `SCAN`.
    static func allKeys(_ h: EngineHarness) async throws -> Set<String> {
        var keys = Set<String>()
        var cursor = "0"
        repeat {
            let reply = try await h.redis.send("SCAN", cursor, "MATCH", GlobPattern.literal(h.namespace) + ":*", "COUNT", "1000")
            cursor = reply.array?.first?.string ?? "0"
            for key in reply.array?.last?.array ?? [] { if let key = key.string { keys.insert(key) } }
        } while cursor != "0"
        return keys
    }

    /// Each key with its `DUMP` (type and value), for "untouched".
    static func dumps(_ h: EngineHarness, _ keys: Set<String>) async throws -> [String: [UInt8]] {
        var result: [String: [UInt8]] = [:]
        for key in keys { result[key] = try await h.redis.send("DUMP", key).bytes }
        return result
    }

    /// The keys a queue `<ns>:{<queue>}:…` has, of `keys`.
    static func keys(of queue: String, in keys: Set<String>, namespace: String) -> Set<String> {
        keys.filter { $0.hasPrefix("\(namespace):{\(queue)}:") }
    }

    /// Process `id`'s heartbeat gone, as at its orderly exit.
    static func removeProcess(_ h: EngineHarness, id: String) async throws {
        _ = try await h.redis.pipeline([RedisCommand("DEL", h.jobs.global.process(id)), RedisCommand("ZREM", h.jobs.global.processes, id)])
    }

    /// A dead job put in `queue`'s dead set, as a worker leaves it.
    static func seedDead(_ h: EngineHarness, id: String, queue: String) async throws {
        var envelope = JobEnvelope(id: id, type: "diag.record", queue: queue, payload: .object([:]), attempt: 3, maxAttempts: 3, lastError: "boom")
        envelope.deadReason = "boom"
        envelope.diedAt = Date().timeIntervalSince1970
        let k = h.jobs.keys(queue)
        var hset = RedisCommand("HSET", k.deadJobs, id)
        hset.append(bytes: envelope.encoded())
        _ = try await h.redis.pipeline([RedisCommand("ZADD", k.dead, String(envelope.diedAt ?? 0), id), hset])
    }

    /// A queue served by a worker (its group, counters, job history, an answer, a once key, its recovery clock) and given
    /// the keys no worker run leaves here (a pre-0033 history, a cancel's field, a recovered run's mark, a scheduler's
    /// last tick, a unique lock held for its `unique_for`, an old day's counters), paused, unserved and in the last scan:
    /// all of it goes, and of the other queues — one of them named with `retired` as a prefix — nothing.
    @Test func removesEveryKeyOfTheQueueAndNothingOfAnother() async throws {
        let h = try EngineHarness()
        let record = "\(h.namespace):{rec}:ran"
        let (worker, task) = h.startWorker(options: .fastTest(queues: ["retired"]))
        let options = [
            EnqueueOptions(queue: "retired", notify: true), EnqueueOptions(queue: "retired", uniqueKey: "u-1"),
            EnqueueOptions(queue: "retired", onceKey: "tick-1"), EnqueueOptions(queue: "retired"),
        ]
        for (n, option) in options.enumerated() {
            try await h.jobs.enqueue(type: "diag.record", payload: .object(["key": .string(record), "member": .string("m\(n)")]), options: option)
        }
        #expect(try await TestSupport.eventually { try await h.recorded(record).count == 4 })
        #expect(try await TestSupport.eventually { try await h.jobs.info(queue: "retired").inFlight == 0 })
        worker.shutdown()
        try await task.value

        let r = h.jobs.keys("retired")
        _ = try await h.redis.pipeline([
            RedisCommand("ZADD", r.legacyHistory, "1", "old-job"), RedisCommand("HSET", r.cancels, "1-1", "requested"),
            RedisCommand("HSET", r.recoveredRuns, "1-2", "1"), RedisCommand("SET", r.scheduleLastTick("nightly"), "1700000000"),
            RedisCommand("SET", r.scheduleLastTick("nightly") + ":schedule", "fp"), RedisCommand("SET", r.unique("held-for"), "gone", "EX", "600"),
            RedisCommand("HSET", r.stats(day: "2024-01-01"), "processed:diag.record", "7"),
            RedisCommand("HSET", h.jobs.global.unservedQueues, "retired", "1", "kept", "1"),
            // The promoter's lock lives 400 ms: the worker's last one, seen by the count below and expired before the
            // forget on a loaded machine, made the count one more than the forget's (a make test). Held for the test instead.
            RedisCommand("SET", r.promoteLock, "1", "PX", "600000"),
        ])
        _ = try await h.jobs.pause(queue: "retired")

        // The others: waiting, delayed and dead jobs, a pause, an unserved mark.
        for queue in ["kept", "retired2"] { try await h.jobs.enqueue(type: "diag.record", payload: .object([:]), options: EnqueueOptions(queue: queue)) }
        try await h.jobs.enqueue(type: "diag.record", payload: .object([:]), options: EnqueueOptions(queue: "kept", runAt: Date().addingTimeInterval(3600)))
        try await Self.seedDead(h, id: "dead-kept", queue: "kept")
        _ = try await h.redis.send("SADD", h.jobs.global.queues, "kept", "retired2")
        _ = try await h.jobs.pause(queue: "kept")
        #expect(try await h.jobs.knownQueues() == ["kept", "retired", "retired2"])  // writes the last scan's list too

        let before = try await Self.allKeys(h)
        let retiredKeys = Self.keys(of: "retired", in: before, namespace: h.namespace)
        #expect([r.stream, r.historyIDs, r.historyJobs].allSatisfy(retiredKeys.contains), "the worker's run made them: \(retiredKeys.sorted())")
        for made in [r.answer(""), r.once(""), r.stats(day: "")] {
            #expect(retiredKeys.contains { $0.hasPrefix(made) && $0 != made }, "no \(made)…: \(retiredKeys.sorted())")
        }
        let global = h.jobs.global
        let shared: Set = [global.queues, global.scannedQueues, global.paused, global.unservedQueues]
        let others = before.subtracting(retiredKeys).subtracting(shared)
        let othersBefore = try await Self.dumps(h, others)

        let result = try await h.jobs.forget(queue: "retired")
        #expect(result == .forgotten(keys: retiredKeys.count, dropped: QueueHoldings()), "\(result) of \(retiredKeys.count)")

        let after = try await Self.allKeys(h)
        #expect(Self.keys(of: "retired", in: after, namespace: h.namespace).isEmpty, "\(after.sorted())")
        #expect(after.subtracting(shared) == others)
        #expect(try await Self.dumps(h, others) == othersBefore, "another queue's keys, or another key, changed")
        #expect(try await h.redis.send("SMEMBERS", global.queues).array?.compactMap(\.string).sorted() == ["kept", "retired2"])
        #expect(try await h.redis.send("SISMEMBER", global.scannedQueues, "retired").int == 0)
        #expect(try await h.redis.send("SISMEMBER", global.scannedQueues, "kept").int == 1)
        #expect(try await h.jobs.pausedQueues().keys.sorted() == ["kept"])
        #expect(try await h.redis.send("HKEYS", global.unservedQueues).array?.compactMap(\.string) == ["kept"])
        #expect(try await h.jobs.knownQueues() == ["kept", "retired2"])
        #expect(try await h.jobs.knownQueues(rescan: false) == ["kept", "retired2"])
    }

    /// A name with glob characters is matched as text: forgetting `a*b` and `q[1]` (queues a service's plain `XADD` can
    /// make) removes their keys, not `aXb`'s nor `q1`'s, which `a*b` and `q[1]` match as patterns.
    @Test func aNameWithGlobCharactersIsMatchedAsText() async throws {
        let h = try EngineHarness()
        for queue in ["a*b", "aXb", "q[1]", "q1", "a\\b"] {
            let k = h.jobs.keys(queue)
            _ = try await h.redis.pipeline([
                RedisCommand("XGROUP", "CREATE", k.stream, QueueKeys.group, "0", "MKSTREAM"),
                RedisCommand("HSET", k.stats(day: "2025-01-01"), "processed:x", "1"),
            ])
        }
        for queue in ["aXb", "q1"] { _ = try await h.redis.send("XADD", h.jobs.keys(queue).stream, "*", "job", "{}") }
        #expect(try await h.jobs.knownQueues() == ["a*b", "aXb", "a\\b", "q1", "q[1]"])
        let before = try await Self.allKeys(h)

        for queue in ["a*b", "q[1]", "a\\b"] {
            let result = try await h.jobs.forget(queue: queue)
            #expect(result == .forgotten(keys: 2, dropped: QueueHoldings()), "\(queue): \(result)")
        }
        let after = try await Self.allKeys(h)
        #expect(after == before.filter { !$0.contains("{a*b}") && !$0.contains("{q[1]}") && !$0.contains("{a\\b}") })
        #expect(try await h.jobs.knownQueues() == ["aXb", "q1"])
    }

    /// Each thing a user could lose refuses it alone, and nothing is removed, the pause kept: ready, in flight (fetched
    /// by a worker since gone), delayed, dead, and a delayed job's envelope without its place in the set.
    @Test func eachKindOfJobRefusesItAndNothingIsRemoved() async throws {
        let h = try EngineHarness()
        let cases: [(String, QueueHoldings)] = [
            ("ready", QueueHoldings(ready: 1)), ("flight", QueueHoldings(inFlight: 1)), ("later", QueueHoldings(scheduled: 1)),
            ("buried", QueueHoldings(dead: 1)), ("orphan", QueueHoldings(scheduled: 1)),
        ]
        for (queue, _) in cases {
            let k = h.jobs.keys(queue)
            _ = try await h.redis.send("XGROUP", "CREATE", k.stream, QueueKeys.group, "0", "MKSTREAM")
            _ = try await h.jobs.pause(queue: queue)
        }
        try await h.jobs.enqueue(type: "diag.record", payload: .object([:]), options: EnqueueOptions(queue: "ready"))
        try await h.jobs.enqueue(type: "diag.record", payload: .object([:]), options: EnqueueOptions(queue: "flight"))
        _ = try await h.redis.send("XREADGROUP", "GROUP", QueueKeys.group, "gone-worker", "COUNT", "1", "STREAMS", h.jobs.keys("flight").stream, ">")
        try await h.jobs.enqueue(type: "diag.record", payload: .object([:]), options: EnqueueOptions(queue: "later", runAt: Date().addingTimeInterval(3600)))
        try await Self.seedDead(h, id: "d1", queue: "buried")
        // An envelope whose id the scheduled set lacks (a partial write by hand): `job show` finds it, so it counts.
        _ = try await h.redis.send("HSET", h.jobs.keys("orphan").scheduledJobs, "o1", #"{"id":"o1","type":"diag.record","queue":"orphan","payload":{}}"#)

        let before = try await Self.dumps(h, try await Self.allKeys(h))
        for (queue, held) in cases {
            let result = try await h.jobs.forget(queue: queue)
            #expect(result == .holdsJobs(held), "\(queue): \(result)")
        }
        #expect(try await Self.dumps(h, try await Self.allKeys(h)) == before, "a refused forget removed something")
        #expect(try await h.jobs.pausedQueues().keys.sorted() == cases.map(\.0).sorted())
    }

    /// `force` removes what the queue holds with it, and says how many of each.
    @Test func forceRemovesTheJobsAndCountsThem() async throws {
        let h = try EngineHarness()
        let k = h.jobs.keys("stuck")
        for n in 0..<3 { try await h.jobs.enqueue(type: "diag.record", payload: .object(["n": .integer(Int64(n))]), options: EnqueueOptions(queue: "stuck", uniqueKey: "u\(n)")) }
        _ = try await h.redis.send("XGROUP", "CREATE", k.stream, QueueKeys.group, "0", "MKSTREAM")
        _ = try await h.redis.send("XREADGROUP", "GROUP", QueueKeys.group, "gone-worker", "COUNT", "1", "STREAMS", k.stream, ">")
        for _ in 0..<2 { try await h.jobs.enqueue(type: "diag.record", payload: .object([:]), options: EnqueueOptions(queue: "stuck", runAt: Date().addingTimeInterval(3600))) }
        for n in 0..<4 { try await Self.seedDead(h, id: "d\(n)", queue: "stuck") }
        let keys = Self.keys(of: "stuck", in: try await Self.allKeys(h), namespace: h.namespace)

        let result = try await h.jobs.forget(queue: "stuck", force: true)
        #expect(result == .forgotten(keys: keys.count, dropped: QueueHoldings(ready: 2, inFlight: 1, scheduled: 2, dead: 4)), "\(result)")
        #expect(Self.keys(of: "stuck", in: try await Self.allKeys(h), namespace: h.namespace).isEmpty)
        #expect(try await h.jobs.knownQueues().isEmpty)
    }

    /// A job enqueued between the scan that lists the queue's keys and the script that removes them (here the store's
    /// two steps called apart) is counted and deleted with the queue, and its unique lock and once key, which that scan
    /// did not list, go too: the same jobs are enqueued again at once. Before, the locks stayed for their TTL (a day by
    /// default), and each enqueue again was refused as a duplicate of a job no longer anywhere.
    @Test func aJobEnqueuedBetweenTheScanAndTheScriptLeavesNoLock() async throws {
        let h = try EngineHarness()
        try await h.jobs.enqueue(type: "diag.record", payload: .object([:]), options: EnqueueOptions(queue: "racing"))
        let found = try await h.jobs.store.forgetScan(queue: "racing")
        let arrivals = [
            EnqueueOptions(queue: "racing", uniqueKey: "u-now"),
            EnqueueOptions(queue: "racing", runAt: Date().addingTimeInterval(3600), uniqueKey: "u-later", onceKey: "o-later"),
            EnqueueOptions(queue: "racing", onceKey: "o-now"),
        ]
        for options in arrivals {
            let result = try await h.jobs.enqueue(type: "diag.record", payload: .object([:]), options: options)
            #expect(result.createdID != nil, "\(result)")
        }

        let outcome = try await h.jobs.store.forget(queue: "racing", force: true, found: found)
        #expect(outcome.forgotten && outcome.holdings == QueueHoldings(ready: 3, scheduled: 1), "\(outcome)")
        #expect(Self.keys(of: "racing", in: try await Self.allKeys(h), namespace: h.namespace).isEmpty)
        for options in arrivals {
            let again = try await h.jobs.enqueue(type: "diag.record", payload: .object([:]), options: options)
            #expect(again.createdID != nil, "enqueued again at once: \(again)")
        }
    }

    /// A live worker whose heartbeat lists the queue, or lists no queues (an older release, which may serve any), refuses
    /// it, `force` or not; a worker of other queues, and a scheduler, do not.
    @Test func aLiveWorkerServingItRefusesItEvenForced() async throws {
        let h = try EngineHarness()
        _ = try await h.redis.send("XGROUP", "CREATE", h.jobs.keys("retired").stream, QueueKeys.group, "0", "MKSTREAM")
        let serving = Heartbeat(kind: "worker", id: "w-serving", jobs: h.jobs) { ["queues": "default,retired"] }
        try await serving.beat()
        for force in [false, true] {
            let result = try await h.jobs.forget(queue: "retired", force: force)
            guard case .served(let workers) = result else {
                Issue.record("force \(force): \(result)")
                continue
            }
            #expect(workers.map(\.id) == ["w-serving"])
        }
        try await Self.removeProcess(h, id: "w-serving")
        try await Heartbeat(kind: "worker", id: "w-old", jobs: h.jobs).beat()
        guard case .served(let old) = try await h.jobs.forget(queue: "retired") else {
            Issue.record("a worker naming no queues serves any")
            return
        }
        #expect(old.map(\.id) == ["w-old"])
        try await Self.removeProcess(h, id: "w-old")
        try await Heartbeat(kind: "worker", id: "w-other", jobs: h.jobs) { ["queues": "default,retired2"] }.beat()
        try await Heartbeat(kind: "scheduler", id: "s-1", jobs: h.jobs).beat()
        #expect(try await h.jobs.forget(queue: "retired") == .forgotten(keys: 1, dropped: QueueHoldings()))
        #expect(try await h.redis.send("EXISTS", h.jobs.keys("retired").stream).int == 0)
    }

    /// A queue Redis holds nothing of is not found, nor is a name no queue can have; one left only in the shared keys
    /// (paused, then its keys gone) is forgotten there.
    @Test func nothingOfItIsNotFoundAndANameOnlyInTheSharedKeysIsForgotten() async throws {
        let h = try EngineHarness()
        #expect(try await h.jobs.forget(queue: "never") == .notFound)
        #expect(try await h.jobs.forget(queue: "x}:unique:k") == .notFound)
        #expect(JobQueue.forgetNameProblem("x}y") != nil && JobQueue.forgetNameProblem("") != nil && JobQueue.forgetNameProblem("a*b") == nil)
        _ = try await h.jobs.pause(queue: "ghost")
        #expect(try await h.jobs.forget(queue: "ghost") == .forgotten(keys: 0, dropped: QueueHoldings()))
        #expect(try await h.jobs.pausedQueues().isEmpty)
        #expect(try await h.jobs.forget(queue: "ghost") == .notFound)
    }

    /// More keys than one script takes (``JobStore/forgetPage``: 1,000): the rest go after it, all of them.
    @Test func aQueueWithThousandsOfKeysIsForgottenWhole() async throws {
        let h = try EngineHarness()
        let k = h.jobs.keys("wide")
        _ = try await h.redis.send("XGROUP", "CREATE", k.stream, QueueKeys.group, "0", "MKSTREAM")
        for batch in stride(from: 0, to: 2_500, by: 500) {
            _ = try await h.redis.pipeline((batch..<batch + 500).map { RedisCommand("SET", k.unique("key-\($0)"), "job-\($0)", "EX", "600") })
        }
        #expect(try await h.jobs.forget(queue: "wide") == .forgotten(keys: 2_501, dropped: QueueHoldings()))
        #expect(Self.keys(of: "wide", in: try await Self.allKeys(h), namespace: h.namespace).isEmpty)
    }
}
