import Foundation
import HoopoeJSON
import Redis
import Synchronization
import TestSupport
import Testing

@testable import HoopoeCore

/// A handler hears the poison-pill rule's burial (``JobHandler/buried(_:reason:context:)``): its `run` never does, so
/// a promise made in `run` (sms.send's `sms.failed`) was broken for a job buried so (a chaos review: 25 of 5,000).
@Suite struct BuriedHookTests {
    /// Records what its hook heard, by job id; its `run` records that it ran.
    struct Hears: JobHandler {
        struct Payload: Codable, Sendable { let note: String }
        static let type = "test.hears"
        let heard: Heard

        func run(_ payload: Payload, context: JobContext) async throws {
            heard.add("ran \(context.id)")
            // "sleeps": past its timeout (cancelled there); "fails": throws on its own, at every attempt.
            if payload.note == "sleeps" { try await Task.sleep(for: .seconds(60)) }
            if payload.note == "fails" { throw JobFailure.retry("refused by the provider") }
        }

        func buried(_ payload: Payload, reason: String, context: JobContext) async throws {
            heard.add("buried \(context.id) \(payload.note) attempt \(context.attempt): \(reason)")
            if payload.note == "throws" { throw JobFailure.permanent("the hook failed") }
        }
    }

    final class Heard: Sendable {
        private let lines = Mutex<[String]>([])
        func add(_ line: String) { lines.withLock { $0.append(line) } }
        var all: [String] { lines.withLock { $0 } }
    }

    /// Makes the job of each id look as a job whose worker was lost while running it twice: delivered twice to a
    /// consumer that is gone, its second run marked as started after a recovery (decision 0079), its lease lapsed.
    private func loseTwice(_ h: EngineHarness, ids: [String]) async throws {
        let stream = h.jobs.keys("default").stream
        _ = try? await h.redis.send("XGROUP", "CREATE", stream, QueueKeys.group, "0", "MKSTREAM")
        let read = try await h.redis.send(RedisCommand("XREADGROUP", ["GROUP", QueueKeys.group, "lost-1", "COUNT", "100", "STREAMS", stream, ">"]))
        let entries = (read.array?.first?.array?.last?.array ?? []).compactMap { $0.array?.first?.string }
        #expect(entries.count == ids.count)
        for entry in entries {
            _ = try await h.redis.send("XCLAIM", stream, QueueKeys.group, "lost-2", "0", entry)
            try await h.jobs.store.markRecoveredRun(queue: "default", entryID: entry)
        }
        try await Task.sleep(for: .milliseconds(300))  // past the 100 ms lease
    }

    @Test func aHandlerHearsOnceThatTheKillRuleBuriedItsJob() async throws {
        let h = try EngineHarness()
        let heard = Heard()
        var registry = JobRegistry()
        registry.register(Hears(heard: heard))
        // One that hears, one whose hook throws (logged; the worker goes on), one whose payload does not decode
        // (nothing to tell), and one of a type this worker does not run.
        try await h.jobs.enqueue(type: Hears.type, payload: ["note": "pill"], options: EnqueueOptions(maxAttempts: 1000, id: "pill"))
        try await h.jobs.enqueue(type: Hears.type, payload: ["note": "throws"], options: EnqueueOptions(id: "thrower"))
        try await h.jobs.enqueue(type: Hears.type, payload: ["other": 1], options: EnqueueOptions(id: "undecodable"))
        try await h.jobs.enqueue(type: "test.unknown", payload: ["note": "x"], options: EnqueueOptions(id: "stranger"))
        try await loseTwice(h, ids: ["pill", "thrower", "undecodable", "stranger"])

        let (worker, task) = h.startWorker(registry, options: .fastTest(lease: .milliseconds(100)))
        #expect(try await h.eventually { try await h.jobs.info(queue: "default").dead == 4 })
        #expect(try await h.eventually { heard.all.count == 2 })
        // A job after them runs: the hook that threw did not stop the worker.
        try await h.jobs.enqueue(type: Hears.type, payload: ["note": "after"], options: EnqueueOptions(id: "after"))
        #expect(try await h.eventually { heard.all.contains("ran after") })
        try await Task.sleep(for: .milliseconds(500))  // room for a second call, which must not come
        worker.shutdown()
        try await task.value

        let reason = "killed its worker 2 times (lease expired while it ran)"
        #expect(heard.all.sorted() == [
            "buried pill pill attempt 2: \(reason)", "buried thrower throws attempt 2: \(reason)", "ran after",
        ], "\(heard.all)")
        let dead = try await h.jobs.deadJobs(queue: "default")
        #expect(Set(dead.map(\.id)) == ["pill", "thrower", "undecodable", "stranger"])
        #expect(dead.allSatisfy { $0.deadReason == reason }, "\(dead.map(\.deadReason))")
    }

    /// Lost runs that used up `max_attempts` (the job comes back after its lease with no attempt left), and an envelope
    /// whose `attempt` is already at its limit (handed back by a stopping worker after lost runs): both are buried
    /// unrun, and no run of the handler concluded, so it hears of it. Before, only the kill rule's burial told it: an
    /// sms.send buried so ended with no sms.failed.
    @Test func aHandlerHearsOfABurialPastItsMaxAttempts() async throws {
        let h = try EngineHarness()
        let heard = Heard()
        var registry = JobRegistry()
        registry.register(Hears(heard: heard))
        // Delivered once to a worker that is gone (no run marked), its lease lapsed: lost once, with one attempt allowed.
        try await h.jobs.enqueue(type: Hears.type, payload: ["note": "lost"], options: EnqueueOptions(maxAttempts: 1, id: "lost"))
        let stream = h.jobs.keys("default").stream
        _ = try? await h.redis.send("XGROUP", "CREATE", stream, QueueKeys.group, "0", "MKSTREAM")
        _ = try await h.redis.send(RedisCommand("XREADGROUP", ["GROUP", QueueKeys.group, "lost-1", "COUNT", "10", "STREAMS", stream, ">"]))
        try await Task.sleep(for: .milliseconds(300))  // past the 100 ms lease
        // Handed back with its attempts used up (written as a stopping worker writes it: `attempt` counts the lost runs).
        try await h.redis.send(
            "XADD", stream, "*", "job",
            #"{"id":"spent","type":"test.hears","queue":"default","payload":{"note":"spent"},"attempt":2,"max_attempts":2,"enqueued_at":1795400000.5}"#)

        let (worker, task) = h.startWorker(registry, options: .fastTest(lease: .milliseconds(100)))
        #expect(try await h.eventually { try await h.jobs.info(queue: "default").dead == 2 })
        #expect(try await h.eventually { heard.all.count == 2 })
        try await Task.sleep(for: .milliseconds(300))  // room for a second call, which must not come
        worker.shutdown()
        try await task.value

        let lost = "its worker was lost 1 time(s) while it held it (lease expired; a run may have started); no attempt is left of its limit of 1"
        let spent = "its envelope says 2 attempts were made (runs lost with their workers, or cut off by a shutdown, count); no attempt is left of its limit of 2"
        #expect(heard.all.sorted() == ["buried lost lost attempt 1: \(lost)", "buried spent spent attempt 2: \(spent)"], "\(heard.all)")
        let dead = try await h.jobs.deadJobs(queue: "default")
        #expect(Set(dead.compactMap(\.deadReason)) == [lost, spent], "\(dead.map(\.deadReason))")
    }

    /// A last attempt cut off by its timeout: the handler was cancelled and never saw its end, so it hears of the
    /// burial. One that threw at its last attempt knows its failure, and is not told.
    @Test func aHandlerCutOffAtItsLastAttemptHearsOfTheBurial() async throws {
        let h = try EngineHarness()
        let heard = Heard()
        var registry = JobRegistry()
        registry.register(Hears(heard: heard))
        try await h.jobs.enqueue(type: Hears.type, payload: ["note": "sleeps"], options: EnqueueOptions(maxAttempts: 1, timeout: .milliseconds(200), id: "slow"))
        try await h.jobs.enqueue(type: Hears.type, payload: ["note": "fails"], options: EnqueueOptions(maxAttempts: 1, id: "failing"))

        let (worker, task) = h.startWorker(registry)
        #expect(try await h.eventually { try await h.jobs.info(queue: "default").dead == 2 })
        #expect(try await h.eventually { heard.all.contains { $0.hasPrefix("buried slow") } })
        try await Task.sleep(for: .milliseconds(300))  // room for a call for the failing one, which must not come
        worker.shutdown()
        try await task.value

        #expect(heard.all.sorted() == [
            "buried slow sleeps attempt 1: failed 1 of 1 attempts, the last timed out after 0.2 seconds (the handler was cancelled)",
            "ran failing", "ran slow",
        ], "\(heard.all)")
        let dead = try await h.jobs.deadJobs(queue: "default")
        #expect(dead.allSatisfy { $0.deadReason == "failed 1 of 1 attempts" }, "\(dead.map(\.deadReason))")
    }

    /// A burial whose move to the dead set fails (Redis refuses the dead set: its key holds another type) is not
    /// logged as done; the error names the reason it was to be buried for. Before, "job sent to the dead set" came
    /// first, whatever followed.
    @Test func aBurialThatFailsIsNotLoggedAsDone() async throws {
        let h = try EngineHarness()
        let keys = h.jobs.keys("default")
        try await h.redis.send("SET", keys.dead, "not a sorted set")
        try await h.redis.send("XADD", keys.stream, "*", "job", #"{"id":"j-refused","type":"no.such.job","payload":{}}"#)
        let log = CapturedLog()
        let worker = Worker(jobs: h.jobs, registry: .diagnostic, options: .fastTest(lease: .seconds(30)), logger: log.logger)
        let task = Task { try await worker.run() }
        #expect(try await h.eventually { log.all.contains { $0.contains("could not move the job to the dead set") } })
        worker.shutdown()
        try await task.value
        #expect(!log.all.contains { $0.contains("sent to the dead set") }, "\(log.all)")
        let failed = log.all.first { $0.contains("could not move the job to the dead set") } ?? ""
        #expect(failed.hasPrefix("error ") && failed.contains("to be buried because: unknown job type 'no.such.job'"), "\(failed)")

        // Once it goes through, it is said.
        try await h.redis.send("DEL", keys.dead)
        try await h.redis.send("XADD", keys.stream, "*", "job", #"{"id":"j-buried","type":"no.such.job","payload":{}}"#)
        let second = CapturedLog()
        let next = Worker(jobs: h.jobs, registry: .diagnostic, options: .fastTest(lease: .seconds(30)), logger: second.logger)
        let nextTask = Task { try await next.run() }
        #expect(try await h.eventually { try await h.jobs.deadJob(id: "j-buried", queue: "default") != nil })
        #expect(try await h.eventually { second.all.contains { $0.hasPrefix("error job sent to the dead set: unknown job type 'no.such.job'") } })
        next.shutdown()
        try await nextTask.value
    }

    /// A hook that never ends holds its runner for the job's timeout at most, then the worker goes on.
    @Test func aHookThatHangsIsCutOffAtTheJobsTimeout() async throws {
        let task = Task<Void, any Error> { try await Task.sleep(for: .seconds(3600)) }
        let start = ContinuousClock.now
        let result = await Worker.result(of: task, within: .milliseconds(100))
        #expect(result == nil)
        #expect(ContinuousClock.now - start < .seconds(5))
        task.cancel()
        let quick = await Worker.result(of: Task {}, within: .seconds(60))
        if case .success? = quick {} else { Issue.record("a finished hook's result: \(String(describing: quick))") }
    }
}
