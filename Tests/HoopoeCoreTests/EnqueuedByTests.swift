import Foundation
import HoopoeCore
import HoopoeJSON
import Redis
import Testing

/// A job enqueued while a handler runs as ``CurrentJob`` names that job as `enqueued_by`, on every enqueue path (one
/// job, a batch prepared in two halves, a delayed job); one enqueued outside a job does not. The field is kept through
/// rewrites as any field the envelope does not model is (FailedAttemptsTests: a retry and the dead set).
@Suite struct EnqueuedByTests {
    @Test func jobsEnqueuedWhileAJobRunsNameItAndOthersDoNot() async throws {
        let h = try EngineHarness()
        let batch = (0..<(2 * JobQueue.parallelPreparationThreshold)).map { n in
            (type: "diag.record", payload: h.diag(key: "k", member: "m\(n)"), options: EnqueueOptions())
        }
        let inside = try await CurrentJob.$id.withValue("parent-1") {
            var ids = try await h.jobs.enqueueBatch(batch).compactMap(\.createdID)
            ids.append(try #require(try await h.jobs.enqueue(type: "diag.record", payload: .object([:])).createdID))
            ids.append(try #require(try await h.jobs.enqueue(type: "diag.record", payload: .object([:]), options: .after(.seconds(60))).createdID))
            return ids
        }
        let outside = try #require(try await h.jobs.enqueue(type: "diag.record", payload: .object([:])).createdID)

        #expect(inside.count == batch.count + 2)
        for id in inside {
            let found = try await h.jobs.find(id: id, queue: "default")
            #expect(found?.envelope.enqueuedBy == "parent-1", "\(id): \(String(describing: found?.envelope))")
        }
        #expect(try await h.jobs.find(id: outside, queue: "default")?.envelope.enqueuedBy == nil)

        // On the wire: sorted among the known keys, right after enqueued_at.
        let entries = try await h.redis.send("XRANGE", h.jobs.keys("default").stream, "-", "+").array ?? []
        let texts = entries.compactMap { $0.array?.last?.array?.last?.bytes }.map { String(decoding: $0, as: UTF8.self) }
        #expect(texts.first?.range(of: #""enqueued_at":[0-9.]+,"enqueued_by":"parent-1","id":"#, options: .regularExpression) != nil, "\(texts.first ?? "")")
    }
}
