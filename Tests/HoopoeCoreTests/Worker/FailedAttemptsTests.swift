import Foundation
import HoopoeJSON
import Redis
import TestSupport
import Testing

@testable import HoopoeCore

/// A retried job keeps its newest failed attempts (attempt, time, error) in its envelope, capped and masked, and they
/// travel with it to the dead set.
@Suite struct FailedAttemptsTests {
    /// Fails every run at once with a retry, an error naming its attempt, a phone number and 400 more characters.
    struct AlwaysFails: JobHandler {
        struct Payload: Codable, Sendable {}
        static let type = "test.always_fails"
        var maxAttempts: Int { 8 }
        var retryPolicy: RetryPolicy { .fixed(0) }
        func run(_ payload: Payload, context: JobContext) async throws {
            throw JobFailure.retry("run \(context.attempt) failed for +989121234567 " + String(repeating: "x", count: 400))
        }
    }

    @Test func aJobRetriedUntilDeadKeepsItsNewestFailedAttempts() async throws {
        let h = try EngineHarness()
        var registry = JobRegistry.diagnostic
        registry.register(AlwaysFails())
        let start = Date().timeIntervalSince1970
        let id = try #require(try await h.jobs.enqueue(type: AlwaysFails.type, payload: .object([:])).createdID)
        // A field this release does not know, as a service writes it with a plain XADD: kept through every retry.
        let traced = "traced-1"
        try await h.redis.send(
            "XADD", h.jobs.keys("default").stream, "*", "job",
            #"{"id":"\#(traced)","type":"\#(AlwaysFails.type)","payload":{},"trace_id":"4bf92f35","a_first":[1,{"b":null}]}"#)
        let (worker, task) = h.startWorker(registry)
        // Both: the two retry on their own, and under load the second may be a retry or two behind the first.
        #expect(try await h.eventually(timeout: .seconds(60)) {
            let first = try await h.jobs.deadJob(id: id, queue: "default")
            let second = try await h.jobs.deadJob(id: traced, queue: "default")
            return first != nil && second != nil
        })
        worker.shutdown()
        try await task.value

        let dead = try #require(try await h.jobs.deadJob(id: id, queue: "default"))
        let attempts = try #require(dead.failedAttempts)
        // Runs 1–7 were retried, run 8 buried it: the newest 5 retried ones are kept, oldest first.
        #expect(attempts.map(\.attempt) == [3, 4, 5, 6, 7])
        for failed in attempts {
            #expect(failed.error.hasPrefix("run \(failed.attempt) failed for "), "\(failed.error)")
            #expect(!failed.error.contains("9121234567"), "phone numbers are masked: \(failed.error)")
            #expect(failed.error.unicodeScalars.count <= FailedAttempt.maxErrorLength + 1, "capped: \(failed.error.count)")
            #expect(failed.at >= start && failed.at <= Date().timeIntervalSince1970)
        }
        #expect(zip(attempts, attempts.dropFirst()).allSatisfy { $0.at <= $1.at })
        #expect(dead.lastError?.hasPrefix("run 8 failed") == true, "the last run's error stays in last_error")
        let tracedDead = try #require(try await h.jobs.deadJob(id: traced, queue: "default"))
        #expect(tracedDead.attempt == 8 && tracedDead.otherFields == ["trace_id": "4bf92f35", "a_first": [1, ["b": .null]]])
    }

    @Test func anEnvelopeWithoutTheListStillDecodesAndOneWithItRoundTrips() throws {
        let old = try JobEnvelope.decode(Array(#"{"id":"a","type":"t","payload":{},"attempt":2,"last_error":"boom"}"#.utf8))
        #expect(old.failedAttempts == nil && old.lastError == "boom")
        let odd = try JobEnvelope.decode(Array(#"{"id":"a","type":"t","payload":{},"failed_attempts":"not a list"}"#.utf8))
        #expect(odd.id == "a" && odd.failedAttempts == nil, "a list of another shape is dropped, the envelope still read")
        var envelope = JobEnvelope(id: "b", type: "t")
        envelope.failedAttempts = [FailedAttempt(attempt: 1, at: 1_764_500_000.5, error: "down")]
        let text = String(decoding: envelope.encoded(), as: UTF8.self)
        #expect(text.contains(#""failed_attempts":[{"at":1764500000.5,"attempt":1,"error":"down"}]"#), "\(text)")
        #expect(try JobEnvelope.decode(envelope.encoded()) == envelope)
        // Unknown fields come back in their sorted places among the known ones, as JSONEncoder's sorted keys would put them.
        let other = try JobEnvelope.decode(Array(#"{"zz":true,"id":"c","type":"t","payload":{},"aa":1,"q":"x","queue":"default","enqueued_at":5}"#.utf8))
        #expect(other.otherFields == ["aa": 1, "q": "x", "zz": true])
        #expect(String(decoding: other.encoded(), as: UTF8.self) == #"{"aa":1,"attempt":0,"enqueued_at":5,"id":"c","payload":{},"q":"x","queue":"default","type":"t","zz":true}"#)
        #expect(try JobEnvelope.decode(other.encoded()) == other)
        #expect(FailedAttempt.appending(FailedAttempt(attempt: 9, at: 0, error: ""), to: (1...8).map { FailedAttempt(attempt: $0, at: 0, error: "") }).map(\.attempt) == [5, 6, 7, 8, 9])
    }
}
