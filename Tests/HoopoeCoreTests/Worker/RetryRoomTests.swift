import Foundation
import HoopoeJSON
import Redis
import TestSupport
import Testing

@testable import HoopoeCore

/// A job enqueued just under the size limit is retried, not buried for the fields its retry adds
/// (``EnvelopeRules/retryRoomBytes``), and once dead it can be retried from the dead set. Before, the first transient
/// failure of such a job sent it to the dead set ("its retry's envelope would be … bytes"), and `dead retry` refused it.
@Suite struct RetryRoomTests {
    /// Fails its first `failures` runs with a retry and a long error; then records that it ran.
    struct FailsThenRecords: JobHandler {
        struct Payload: Codable, Sendable {
            var key: String
            var blob: String
        }
        static let type = "test.fails_then_records"
        var failures: Int
        var maxAttempts: Int { 3 }
        var retryPolicy: RetryPolicy { .fixed(0) }
        func run(_ payload: Payload, context: JobContext) async throws {
            if context.attempt <= failures { throw JobFailure.retry("run \(context.attempt): " + String(repeating: "e", count: 4000)) }
            try await context.redis.send("HINCRBY", payload.key, "ran", "1")
        }
    }

    /// Enqueues a job whose envelope is `short` bytes under the limit; returns its id.
    private func enqueueNearTheLimit(_ h: EngineHarness, key: String, short: Int) async throws -> String {
        let stream = h.jobs.keys("default").stream
        let probe = try await h.jobs.enqueue(type: FailsThenRecords.type, payload: ["key": .string(key), "blob": ""])
        let entry = try await h.redis.send("XRANGE", stream, "-", "+")
        let size = try #require(entry.array?.first?.array?[1].array?[1].bytes?.count)
        _ = try await h.redis.send("DEL", stream)
        _ = probe
        let blob = String(repeating: "b", count: EnvelopeRules.maxBytes - size - short)
        let id = try #require(try await h.jobs.enqueue(type: FailsThenRecords.type, payload: ["key": .string(key), "blob": .string(blob)]).createdID)
        let written = try await h.redis.send("XRANGE", stream, "-", "+")
        let bytes = try #require(written.array?.first?.array?[1].array?[1].bytes)
        #expect(bytes.count > EnvelopeRules.maxBytes - short - 40 && bytes.count <= EnvelopeRules.maxBytes, "\(bytes.count)")
        return id
    }

    @Test func aJobNearTheLimitIsRetriedAndRunsAgain() async throws {
        let h = try EngineHarness()
        var registry = JobRegistry.diagnostic
        registry.register(FailsThenRecords(failures: 2))
        let key = "\(h.namespace):ran"
        _ = try await enqueueNearTheLimit(h, key: key, short: 10)
        let (worker, task) = h.startWorker(registry)
        defer { worker.shutdown() }
        // Two retries, each over the limit by its own fields, then the third run.
        #expect(try await h.eventually(timeout: .seconds(30)) { try await h.redis.send("HGET", key, "ran").string == "1" })
        #expect(try await h.jobs.info(queue: "default").dead == 0)
        worker.shutdown()
        try await task.value
    }

    @Test func aDeadJobThatGrewPastTheLimitIsRetriedFromTheDeadSet() async throws {
        let h = try EngineHarness()
        var registry = JobRegistry.diagnostic
        registry.register(FailsThenRecords(failures: 3))
        let key = "\(h.namespace):ran"
        let id = try await enqueueNearTheLimit(h, key: key, short: 10)
        var (worker, task) = h.startWorker(registry)
        #expect(try await h.eventually(timeout: .seconds(30)) { try await h.jobs.info(queue: "default").dead == 1 })
        worker.shutdown()
        try await task.value
        let dead = try #require(try await h.jobs.deadJob(id: id, queue: "default"))
        #expect(dead.deadReason == "failed 3 of 3 attempts", "\(dead.deadReason ?? "")")
        // Whole: its payload not cut to text, its retries' fields kept past the limit.
        #expect(dead.payload["blob"]?.stringValue?.utf8.count ?? 0 > EnvelopeRules.maxBytes - 1000)
        #expect(dead.encoded().count > EnvelopeRules.maxBytes, "the dead copy carries its retries' fields")
        #expect(try await h.jobs.retryDead(id: id, queue: "default"))
        var succeeding = JobRegistry.diagnostic
        succeeding.register(FailsThenRecords(failures: 0))
        (worker, task) = h.startWorker(succeeding)
        defer { worker.shutdown() }
        #expect(try await h.eventually(timeout: .seconds(30)) { try await h.redis.send("HGET", key, "ran").string == "1" })
        worker.shutdown()
        try await task.value
    }
}
