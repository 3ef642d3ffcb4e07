import Foundation
import HoopoeCore
import HoopoeJSON
import Redis
import Synchronization
import TestSupport
import Testing

/// `JobQueue.clear`: a queue's waiting jobs removed as cancels remove them (unique locks released, `notify` callers
/// told), those of another type and those workers fetched left, nothing written to job history.
@Suite struct JobQueueClearTests {
    @Test func clearsTheWaitingJobsOfOneTypeAndLeavesTheRest() async throws {
        let h = try EngineHarness()
        let k = h.jobs.keys("default")
        // A worker fetched the first (pending to it): not ready, not touched, its unique lock kept.
        try await h.jobs.enqueue(type: "flood.sms", payload: .object([:]), options: EnqueueOptions(uniqueKey: "held"))
        _ = try await h.redis.send("XGROUP", "CREATE", k.stream, QueueKeys.group, "0", "MKSTREAM")
        _ = try await h.redis.send("XREADGROUP", "GROUP", QueueKeys.group, "w-1", "COUNT", "1", "STREAMS", k.stream, ">")
        // 250 of the flood's type (some unique, one waited on), 30 of another; then 20 and 5 of them delayed.
        var batch = (0..<250).map { n in
            (type: "flood.sms", payload: JSONValue.object(["n": .integer(Int64(n))]),
             options: EnqueueOptions(uniqueKey: n % 50 == 0 ? "flood-\(n)" : nil))
        }
        batch += (0..<30).map { n in (type: "diag.record", payload: JSONValue.object(["n": .integer(Int64(n))]), options: EnqueueOptions()) }
        _ = try await h.jobs.enqueueBatch(batch)
        let waited = try #require(try await h.jobs.enqueue(type: "flood.sms", payload: .object([:]), options: EnqueueOptions(notify: true)).createdID)
        for n in 0..<20 {
            try await h.jobs.enqueue(type: "flood.sms", payload: .object([:]), options: EnqueueOptions(runAt: Date().addingTimeInterval(600), uniqueKey: "later-\(n)"))
        }
        for _ in 0..<5 { try await h.jobs.enqueue(type: "diag.record", payload: .object([:]), options: .after(.seconds(600))) }

        let cleared = try await h.jobs.clear(queue: "default", type: "flood.sms")
        #expect(cleared == ClearResult(cleared: 251, fetched: 0, otherTypes: 30), "\(cleared)")
        var info = try await h.jobs.info(queue: "default")
        #expect(info.ready == 30 && info.inFlight == 1 && info.scheduled == 25, "\(info)")
        // Their unique locks went with them: the keys can be used again; the fetched job's is still held.
        #expect(try await h.jobs.enqueue(type: "flood.sms", payload: .object([:]), options: EnqueueOptions(uniqueKey: "flood-50")).createdID != nil)
        #expect(try await h.jobs.enqueue(type: "flood.sms", payload: .object([:]), options: EnqueueOptions(uniqueKey: "held")).createdID == nil)
        let answer = try await h.redis.send("LPOP", k.answer(waited))
        #expect(answer.string?.contains(#""outcome":"cancelled""#) == true, "\(answer)")
        #expect(try await h.redis.send("HLEN", k.historyJobs).int == 0, "a clear writes no history")

        let rest = try await h.jobs.clear(queue: "default", scheduled: true)
        #expect(rest == ClearResult(cleared: 30 + 1 + 25, fetched: 0, otherTypes: 0), "the other type's, flood-50's again, the delayed: \(rest)")
        info = try await h.jobs.info(queue: "default")
        #expect(info.ready == 0 && info.inFlight == 1 && info.scheduled == 0, "\(info)")
        #expect(try await h.jobs.enqueue(type: "flood.sms", payload: .object([:]), options: EnqueueOptions(uniqueKey: "later-3")).createdID != nil)
    }

    @Test func anEmptyOrMissingQueueClearsNothing() async throws {
        let h = try EngineHarness()
        #expect(try await h.jobs.clear(queue: "nothing-here", scheduled: true) == ClearResult())
    }

    /// The scheduled set changes while a clear walks it: after its first page, the promoter takes kept jobs from the
    /// front and earlier-due retries arrive (here by `redis-cli`, called from the progress callback so it lands between
    /// pages). Every job of the cleared type there at the start still goes, and the kept ones are counted once. Pages by
    /// rank skipped the jobs that moved up into the pages already read, and stopped short of the tail.
    @Test func aScheduledSetThatChangesMidwayIsClearedWhole() async throws {
        let h = try EngineHarness()
        let k = h.jobs.keys("default")
        let base = Date().timeIntervalSince1970 + 3600
        var batch: [(type: String, payload: JSONValue, options: EnqueueOptions)] = []
        for n in 0..<400 {
            batch.append((type: n % 2 == 0 ? "flood.sms" : "diag.record", payload: .object(["n": .integer(Int64(n))]),
                          options: EnqueueOptions(runAt: Date(timeIntervalSince1970: base + Double(n)))))
        }
        _ = try await h.jobs.enqueueBatch(batch)
        let kept = try await h.redis.send("ZRANGE", k.scheduled, "0", "-1").array!.compactMap(\.string)
        let front = Array(kept.prefix(60))  // the 30 earliest of each type; the promoter's move of the kept ones is a ZREM
        let url = try TestRedis.url()
        let once = Mutex(false)
        let result = try await h.jobs.clear(queue: "default", type: "flood.sms", scheduled: true) { _ in
            guard once.withLock({ done in defer { done = true }; return !done }) else { return }
            var commands = ["ZREM \(k.scheduled) " + front.enumerated().filter { $0.offset % 2 == 1 }.map(\.element).joined(separator: " ")]
            for n in 0..<100 { commands.append("ZADD \(k.scheduled) \(Int(base) - 1000 + n) early-\(n)") }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/redis-cli")
            process.arguments = ["-u", url]
            let input = Pipe()
            process.standardInput = input
            process.standardOutput = FileHandle.nullDevice
            try? process.run()
            input.fileHandleForWriting.write(Data((commands.joined(separator: "\n") + "\n").utf8))
            try? input.fileHandleForWriting.close()
            process.waitUntilExit()
        }
        let left = try await h.redis.send("ZRANGE", k.scheduled, "0", "-1").array!.compactMap(\.string)
        let envelopes = try await h.redis.send(RedisCommand("HMGET", [k.scheduledJobs] + left.filter { !$0.hasPrefix("early-") })).array!
        let types = try envelopes.compactMap(\.bytes).map { try JobEnvelope.decode($0).type }
        #expect(once.withLock { $0 }, "the set was changed midway")
        #expect(!types.contains("flood.sms"), "no job of the cleared type stays: \(types.filter { $0 == "flood.sms" }.count) did")
        #expect(types.count == 200 - 30, "the kept type's, less the 30 promoted")
        #expect(result.cleared == 200 && result.otherTypes >= 170 && result.otherTypes <= 200 + 100, "\(result)")
    }

    /// The runbook run from a script: `pause`, then `clear` at once. The worker holds fetched jobs it has not started
    /// (one runner, held at a gate; the rest in its buffer) and hands them back when it sees the pause (its check runs
    /// every 0.1 s here: well inside the wait on a loaded machine), as new entries. The clear waits for that, so none of
    /// them is left ready to run on `resume`; also when the pause's time is ahead of the clearing host's clock.
    @Test func aClearRightAfterAPauseClearsWhatTheWorkersHandBack() async throws {
        let h = try EngineHarness()
        let key = "\(h.namespace):ran"
        let gate = TestGate()
        defer { gate.open() }
        try await h.jobs.enqueue(type: GatedRecordJob.type, payload: h.diag(key: key, member: "blocker"))
        _ = try await h.jobs.enqueueBatch((0..<12).map { n in
            (type: "flood.sms", payload: JSONValue.object(["n": .integer(Int64(n))]), options: EnqueueOptions())
        })
        var options = WorkerOptions.fastTest(concurrency: 1)
        options.pauseCheckInterval = .milliseconds(100)
        options.prefetch = 50
        let (worker, task) = h.startWorker(.diagnostic(gatedBy: gate), options: options)
        #expect(try await h.eventually { try await h.jobs.info(queue: "default").inFlight == 13 }, "the blocker runs, the flood waits fetched")

        // Paused by a host whose clock runs a second ahead of this one.
        _ = try await h.redis.send("HSET", h.jobs.global.paused, "default", String(Date().timeIntervalSince1970 + 1))
        let result = try await h.jobs.clear(queue: "default", type: "flood.sms")
        #expect(result.cleared == 12, "\(result)")
        try await Task.sleep(for: .seconds(1))  // another pause check: nothing more comes back
        let info = try await h.jobs.info(queue: "default")
        #expect(info.ready == 0 && info.inFlight == 1, "only the running blocker is left: \(info)")
        gate.open()
        worker.shutdown()
        try await task.value
    }
}
