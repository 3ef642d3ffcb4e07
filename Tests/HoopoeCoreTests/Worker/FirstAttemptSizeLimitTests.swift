import Foundation
import HoopoeJSON
import Redis
import TestSupport
import Testing

@testable import HoopoeCore

/// The room past the size limit (``EnvelopeRules/retryRoomBytes``) is a retry's only: a first attempt over the limit,
/// written by a plain `XADD` that skipped the enqueue script's check, is dead unrun, however little it is over. Only the
/// far larger envelopes (600 KiB, 10 MiB) were tried, which a first attempt given the 8 KiB room is still over: a worker
/// that gave every attempt the room ran a 512 KiB + 1 byte job nobody may enqueue (mutation testing, session 65).
@Suite struct FirstAttemptSizeLimitTests {
    /// A `diag.record` envelope of exactly `size` bytes (its `blob` padded), at `attempt` when given.
    private func envelope(id: String, key: String, member: String, attempt: Int?, size: Int) -> String {
        let head = #"{"id":"\#(id)","type":"diag.record","# + (attempt.map { #""attempt":\#($0),"# } ?? "")
            + #""payload":{"key":"\#(key)","member":"\#(member)","blob":""#
        let tail = #""}}"#
        return head + String(repeating: "x", count: size - head.utf8.count - tail.utf8.count) + tail
    }

    @Test func aFirstAttemptOneByteOverTheLimitIsDeadUnrunWhileARetryOfThatSizeRuns() async throws {
        let h = try EngineHarness()
        let key = "\(h.namespace):sized"
        let size = h.jobs.maxEnvelopeBytes + 1
        let stream = h.jobs.keys("default").stream
        let first = envelope(id: "first-over", key: key, member: "first", attempt: nil, size: size)
        let retry = envelope(id: "retry-over", key: key, member: "retry", attempt: 1, size: size)
        #expect(first.utf8.count == size && retry.utf8.count == size)
        try await h.redis.send("XADD", stream, "*", "job", first)
        try await h.redis.send("XADD", stream, "*", "job", retry)
        let (worker, task) = h.startWorker()
        #expect(try await h.eventually(timeout: .seconds(30)) { try await h.recorded(key)["retry"] != nil }, "a retry within its room runs")
        #expect(try await h.eventually(timeout: .seconds(30)) { try await h.jobs.info(queue: "default").dead == 1 })
        worker.shutdown()
        try await task.value
        #expect(try await h.recorded(key)["first"] == nil, "the first attempt over the limit never ran")
        let dead = try #require(try await h.jobs.deadJob(id: "first-over", queue: "default"))
        #expect(dead.deadReason?.contains("over the \(h.jobs.maxEnvelopeBytes)-byte limit") == true, "\(dead.deadReason ?? "")")
    }
}
