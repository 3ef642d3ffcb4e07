import Foundation
import HoopoeJSON
import Redis
import TestSupport
import Testing

@testable import HoopoeCore

/// A running worker keeps its queues' dead sets and histories within their caps although no job dies or runs (decision
/// 0088): before, only a burial trimmed the dead set and only a settle the history, so a queue whose jobs stopped dying
/// or running kept its dead jobs and its finished jobs' records (payloads and all) past their age.
@Suite struct RetentionUpkeepTests {
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

    /// Rounds keep coming: a first old job is buried and waited out (a round ran after it), then the rest are buried,
    /// which only a later round can remove.
    @Test func aWorkerRemovesDeadJobsPastTheirAgeWhenNoJobDies() async throws {
        let h = try EngineHarness()
        var options = WorkerOptions.fastTest()
        options.retentionUpkeepInterval = .milliseconds(100)
        let (worker, task) = h.startWorker(options: options)
        let now = Date().timeIntervalSince1970
        try await bury(h, id: "first", diedAt: now - 200 * 86_400)  // past the default 180 days
        #expect(try await h.eventually { try await deadIDs(h).isEmpty }, "a round ran after the first burial")
        for i in 0..<3 { try await bury(h, id: "old\(i)", diedAt: now - 200 * 86_400) }
        try await bury(h, id: "recent", diedAt: now - 86_400)
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
        options.retentionUpkeepInterval = .milliseconds(100)
        let (worker, task) = h.startWorker(options: options)
        let trimmed = try await h.eventually { try await deadIDs(h) == ["d2", "d3", "d4"] }
        let left = try await deadIDs(h).sorted()
        #expect(trimmed, "left: \(left)")
        #expect(try await storedIDs(h) == ["d2", "d3", "d4"])
        worker.shutdown()
        try await task.value
    }

    /// A history record as a settle writes it (its line of JSON, then the envelope), listed newest first.
    private func finished(_ h: EngineHarness, id: String, at time: Double) async throws {
        let keys = h.jobs.keys("default")
        let record = #"{"id":"\#(id)","type":"diag.record","queue":"default","outcome":"processed","attempt":1,"finished_at":\#(time)}"# + "\n{}"
        _ = try await h.redis.pipeline([RedisCommand("HSET", keys.historyJobs, id, record), RedisCommand("LPUSH", keys.historyIDs, id)])
    }

    @Test func aWorkerRemovesHistoryPastItsAgeWhenNoJobRuns() async throws {
        let h = try EngineHarness()
        let now = Date().timeIntervalSince1970
        for i in 0..<3 { try await finished(h, id: "old\(i)", at: now - 2 * 86_400) }  // past the default 24 h
        try await finished(h, id: "recent", at: now - 60)
        var options = WorkerOptions.fastTest()
        options.retentionUpkeepInterval = .milliseconds(100)
        let (worker, task) = h.startWorker(options: options)
        let keys = h.jobs.keys("default")
        let trimmed = try await h.eventually { try await h.redis.send("LRANGE", keys.historyIDs, "0", "-1").array?.compactMap(\.string) == ["recent"] }
        let left = (try await h.redis.send("HKEYS", keys.historyJobs).array ?? []).compactMap(\.string)
        #expect(trimmed && left == ["recent"], "records left: \(left)")
        #expect(try await h.jobs.store.historyRecord(id: "recent", queue: "default")?.id == "recent")
        worker.shutdown()
        try await task.value
    }

    /// A worker that keeps no history (`HOOPOE_HISTORY_MAX_JOBS=0`) leaves the queue's history to the workers that do.
    /// A queue's workers set to keep no history (`HOOPOE_HISTORY_MAX_JOBS=0`, as decision 0059 advises for a busy
    /// queue) left the records kept before for good, payloads and personal data with them. They trim by age now (their
    /// `HOOPOE_HISTORY_MAX_AGE`), and leave the count to the workers that keep history: a young record stays.
    @Test func aWorkerWithoutHistoryStillTrimsItByAge() async throws {
        let h = try EngineHarness()
        let now = Date().timeIntervalSince1970
        try await finished(h, id: "old", at: now - 2 * 86_400)
        try await finished(h, id: "young", at: now - 60)
        var options = WorkerOptions.fastTest()
        options.historyMaxJobs = 0
        options.retentionUpkeepInterval = .milliseconds(50)
        let (worker, task) = h.startWorker(options: options)
        #expect(try await h.eventually { try await h.redis.send("LLEN", h.jobs.keys("default").historyIDs).int == 1 })
        worker.shutdown()
        try await task.value
        #expect(try await h.redis.send("LRANGE", h.jobs.keys("default").historyIDs, "0", "-1").array?.compactMap(\.string) == ["young"])
        #expect(try await h.redis.send("HEXISTS", h.jobs.keys("default").historyJobs, "old").int == 0)
    }

    /// One age trim removes at most 1,000 records: a queue finishing more than that a minute, or an age cap just lowered
    /// over a long history, fell further behind each round (5,000 past the cap, one round left 4,000). A round trims
    /// until none is past it.
    @Test func aRoundTrimsEveryRecordPastTheAgeNotAThousand() async throws {
        let h = try EngineHarness()
        let keys = h.jobs.keys("default")
        let old = Date().timeIntervalSince1970 - 2 * 86_400
        for start in stride(from: 0, to: 5_000, by: 500) {
            var commands: [RedisCommand] = []
            for i in start..<start + 500 {
                commands.append(RedisCommand("HSET", keys.historyJobs, "o\(i)", #"{"id":"o\#(i)","type":"diag.record","queue":"default","outcome":"processed","attempt":1,"finished_at":\#(old)}"# + "\n{}"))
                commands.append(RedisCommand("LPUSH", keys.historyIDs, "o\(i)"))
            }
            _ = try await h.redis.pipeline(commands)
        }
        var options = WorkerOptions.fastTest()
        options.historyMaxJobs = 1_000_000
        options.retentionUpkeepInterval = .seconds(3600)  // one round: the first, at start
        let (worker, task) = h.startWorker(options: options)
        #expect(try await h.eventually { try await h.redis.send("LLEN", keys.historyIDs).int == 0 }, "past the age cap: all gone in the first round")
        worker.shutdown()
        try await task.value
        #expect(try await h.redis.send("HLEN", keys.historyJobs).int == 0)
    }

    /// A queue no live worker has served for an hour (retired, renamed) is trimmed by age by the workers that live:
    /// before, its dead jobs and finished jobs' records stayed for good. Not by count (its old-enough records stay
    /// however many), not before the hour (a deploy's gap), and not a queue another live worker serves (left to it and
    /// its caps).
    @Test func aQueueNoWorkerServesIsTrimmedByAgeByTheWorkersThatLive() async throws {
        let h = try EngineHarness()
        let now = Date().timeIntervalSince1970
        for queue in ["retired", "elsewhere", "just-stopped"] {
            let keys = h.jobs.keys(queue)
            let record = #"{"id":"h","type":"diag.record","queue":"\#(queue)","outcome":"processed","attempt":1,"finished_at":\#(now - 2 * 86_400)}"# + "\n{}"
            _ = try await h.redis.pipeline([
                RedisCommand("ZADD", keys.dead, String(now - 200 * 86_400), "old"), RedisCommand("HSET", keys.deadJobs, "old", "{}"),
                RedisCommand("HSET", keys.historyJobs, "h", record), RedisCommand("LPUSH", keys.historyIDs, "h"),
                RedisCommand("SADD", h.jobs.global.queues, queue),
            ])
        }
        let retired = h.jobs.keys("retired")
        // Many young dead jobs: the count cap (here 2) is not applied to a queue nobody serves.
        for i in 0..<5 { _ = try await h.redis.pipeline([RedisCommand("ZADD", retired.dead, String(now - Double(i)), "young\(i)"), RedisCommand("HSET", retired.deadJobs, "young\(i)", "{}")]) }
        // A live worker (its heartbeat) serves `elsewhere`; nobody has served `retired` for two hours; `just-stopped`'s
        // workers went a minute ago.
        try await Heartbeat(kind: "worker", id: "other-worker", jobs: h.jobs, interval: .seconds(60), details: { ["queues": "elsewhere"] }).beat()
        _ = try await h.redis.send("HSET", h.jobs.global.unservedQueues, "retired", String(now - 7200), "just-stopped", String(now - 60), "elsewhere", String(now - 7200))
        _ = try await h.redis.send("SET", h.jobs.global.unservedWatch, "1", "EX", "600")  // the workers' rounds watched all along
        var options = WorkerOptions.fastTest()
        options.retentionUpkeepInterval = .milliseconds(100)
        options.deadMaxJobs = 2
        let (worker, task) = h.startWorker(options: options)
        #expect(try await h.eventually { try await h.redis.send("ZCARD", retired.dead).int == 5 }, "the retired queue's old dead job went, the young stay")
        #expect(try await h.eventually { try await h.redis.send("LLEN", retired.historyIDs).int == 0 }, "and its old history")
        #expect(try await h.redis.send("HLEN", retired.deadJobs).int == 5)
        #expect(try await h.redis.send("HLEN", retired.historyJobs).int == 0)
        for queue in ["elsewhere", "just-stopped"] {
            let keys = h.jobs.keys(queue)
            #expect(try await h.redis.send("ZCARD", keys.dead).int == 1, "\(queue) is not trimmed")
            #expect(try await h.redis.send("LLEN", keys.historyIDs).int == 1, "\(queue) is not trimmed")
        }
        let noted = try await h.redis.send("HKEYS", h.jobs.global.unservedQueues).array?.compactMap(\.string).sorted()
        #expect(noted == ["just-stopped", "retired"], "a queue served again is forgotten: \(noted ?? [])")
        worker.shutdown()
        try await task.value
    }

    /// A job cancelled on a queue no worker ever served (a typo's) leaves a record in that queue's history: the queue is
    /// trimmed by age as any other unserved one. It was in no list the workers trim (only a worker's start named a
    /// queue), and the record, payload and all, stayed for good.
    @Test func aCancelsRecordOnAQueueNoWorkerEverServedIsTrimmedByAge() async throws {
        let h = try EngineHarness()
        let typo = h.jobs.keys("emials")
        guard case .enqueued(let id) = try await h.jobs.enqueue(type: "diag.record", payload: ["to": "s@example.com"], options: EnqueueOptions(queue: "emials"))
        else { Issue.record("not enqueued"); return }
        #expect(try await h.jobs.cancel(id: id, queue: "emials") == .cancelled)
        #expect(try await h.redis.send("LLEN", typo.historyIDs).int == 1)
        try await Task.sleep(for: .milliseconds(1_100))  // older than the worker's 1 s age cap
        // The workers' rounds have seen it unserved for two hours.
        _ = try await h.redis.send("HSET", h.jobs.global.unservedQueues, "emials", String(Date().timeIntervalSince1970 - 7200))
        _ = try await h.redis.send("SET", h.jobs.global.unservedWatch, "1", "EX", "600")
        var options = WorkerOptions.fastTest()
        options.historyMaxAge = .seconds(1)
        options.retentionUpkeepInterval = .milliseconds(100)
        let (worker, task) = h.startWorker(options: options)
        let trimmed = try await h.eventually { try await h.redis.send("LLEN", typo.historyIDs).int == 0 }
        worker.shutdown()
        try await task.value
        #expect(trimmed, "the cancel's record on a queue no worker serves is trimmed by age")
        #expect(try await h.redis.send("HLEN", typo.historyJobs).int == 0)
    }

    /// The hour counts only while workers watched: a fleet down for two hours, and the first worker back (not one of the
    /// queue's own), does not take a queue noted unserved before the outage for retired. Its dead set and history stay,
    /// and its hour starts again. Before, the outage counted as unserved time, and another queue's worker trimmed it by
    /// its own caps seconds before the queue's workers came back.
    @Test func anOutageOfEveryWorkerDoesNotCountAsUnservedTime() async throws {
        let h = try EngineHarness()
        let now = Date().timeIntervalSince1970
        let keys = h.jobs.keys("paused-by-outage")
        _ = try await h.redis.pipeline([
            RedisCommand("ZADD", keys.dead, String(now - 200 * 86_400), "old"), RedisCommand("HSET", keys.deadJobs, "old", "{}"),
            RedisCommand("SADD", h.jobs.global.queues, "paused-by-outage"),
            RedisCommand("HSET", h.jobs.global.unservedQueues, "paused-by-outage", String(now - 7200)),
        ])
        // No watch mark: no worker looked for unserved queues in the last ten minutes.
        var options = WorkerOptions.fastTest()
        options.retentionUpkeepInterval = .milliseconds(100)
        let (worker, task) = h.startWorker(options: options)
        #expect(try await h.eventually { try await h.redis.send("EXISTS", h.jobs.global.unservedWatch).int == 1 }, "a round looked")
        try await Task.sleep(for: .milliseconds(500))  // a few more rounds
        worker.shutdown()
        try await task.value
        #expect(try await h.redis.send("ZCARD", keys.dead).int == 1, "not trimmed after an outage")
        let since = try await h.redis.send("HGET", h.jobs.global.unservedQueues, "paused-by-outage").double ?? 0
        #expect(since >= now - 5, "its hour starts again: \(since - now)")

        // Rounds longer than the ten minutes (an embedding program's interval of 15 minutes): the mark outlives three of
        // them, or every look would find it expired and no unserved queue's hour would ever pass.
        _ = try await h.jobs.store.queuesUnservedPastGrace(now: now, servedHere: [], round: .seconds(900))
        let ttl = try await h.redis.send("TTL", h.jobs.global.unservedWatch).int ?? 0
        #expect((2_600...2_700).contains(ttl), "\(ttl)")
    }

    /// One queue whose dead set cannot be trimmed (here a key of another type at its name) is logged and passed over: the
    /// queues after it, and its own history, are still trimmed.
    @Test func aQueueThatCannotBeTrimmedDoesNotStopTheOthers() async throws {
        let h = try EngineHarness()
        let now = Date().timeIntervalSince1970
        _ = try await h.redis.send("SET", h.jobs.keys("broken").dead, "not a sorted set")
        let brokenHistory = h.jobs.keys("broken")
        let record = #"{"id":"h","type":"diag.record","queue":"broken","outcome":"processed","attempt":1,"finished_at":\#(now - 2 * 86_400)}"# + "\n{}"
        _ = try await h.redis.pipeline([
            RedisCommand("HSET", brokenHistory.historyJobs, "h", record), RedisCommand("LPUSH", brokenHistory.historyIDs, "h"),
        ])
        let later = h.jobs.keys("default")
        _ = try await h.redis.pipeline([
            RedisCommand("ZADD", later.dead, String(now - 200 * 86_400), "old"), RedisCommand("HSET", later.deadJobs, "old", "{}"),
        ])
        var options = WorkerOptions.fastTest(queues: ["broken", "default"])
        options.retentionUpkeepInterval = .milliseconds(100)
        let (worker, task) = h.startWorker(options: options)
        #expect(try await h.eventually { try await h.redis.send("ZCARD", later.dead).int == 0 }, "the queue after the broken one was trimmed")
        #expect(try await h.eventually { try await h.redis.send("LLEN", brokenHistory.historyIDs).int == 0 }, "and the broken one's history")
        worker.shutdown()
        try await task.value
    }

    /// A cap lowered far below the set (here by 8,900) is reached over several calls of at most 1,000 removals each:
    /// one call removing them all failed in Lua (`unpack` of more than ~8,000 values), every minute and at every burial.
    @Test func aCapFarBelowTheSetIsReachedOverSeveralCalls() async throws {
        let h = try EngineHarness()
        let keys = h.jobs.keys("default")
        let now = Date().timeIntervalSince1970
        for start in stride(from: 0, to: 9_000, by: 1_000) {
            var zadd = RedisCommand("ZADD", keys.dead)
            var hset = RedisCommand("HSET", keys.deadJobs)
            for i in start..<(start + 1_000) {
                zadd.append(String(now - Double(9_000 - i)))
                zadd.append("d\(i)")
                hset.append("d\(i)")
                hset.append("{}")
            }
            _ = try await h.redis.pipeline([zadd, hset])
        }
        let limits = JobStore.DeadSetLimits(maxJobs: 100, maxAge: .seconds(86_400), eventsMaxLength: 100)
        var removed: [Int] = []
        for _ in 0..<10 { removed.append(try await h.jobs.store.trimDeadSet(queue: "default", limits: limits, now: now)) }
        #expect(removed == [1_000, 1_000, 1_000, 1_000, 1_000, 1_000, 1_000, 1_000, 900, 0])
        #expect(try await h.redis.send("ZCARD", keys.dead).int == 100)
        #expect(try await h.redis.send("HLEN", keys.deadJobs).int == 100)
        #expect(try await h.redis.send("ZRANGE", keys.dead, "0", "0").array?.first?.string == "d8900", "the newest kept")
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
