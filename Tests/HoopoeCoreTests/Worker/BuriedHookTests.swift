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
