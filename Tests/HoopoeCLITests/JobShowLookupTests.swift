import Foundation
import HoopoeCore
import HoopoeJSON
import Redis
import TestSupport
import Testing

/// `hoopoe job show` looks for a ready job as the dashboard does (a bounded read of the stream); `--whole-stream`
/// reads it all.
@Suite struct JobShowLookupTests {
    @Test func aDeepReadyJobIsShownAndACallerChosenIdBeyondTheBoundNeedsWholeStream() async throws {
        let h = try CLIHarness()
        let stream = h.jobs.keys("default").stream
        let startMs = UInt64(Date().timeIntervalSince1970 * 1000) - 60_000
        let old = (0..<3000).map { n in
            var xadd = RedisCommand("XADD", stream, "\(startMs + UInt64(n))-0", "job")
            xadd.append(bytes: JobEnvelope(id: "old-\(n)", type: "diag.record", payload: .object([:])).encoded())
            return xadd
        }
        _ = try await h.redis.pipeline(old)
        let id = try #require(try await h.jobs.enqueue(type: "diag.record", payload: .object([:])).createdID)
        let new = (0..<3000).map { n in
            var xadd = RedisCommand("XADD", stream, "*", "job")
            xadd.append(bytes: JobEnvelope(id: "new-\(n)", type: "diag.record", payload: .object([:])).encoded())
            return xadd
        }
        _ = try await h.redis.pipeline(new)

        let (status, output) = try await h.run(["job", "show", id])
        #expect(status == 0 && output.contains("state:       ready"), "\(output)")

        let (missStatus, miss) = try await h.run(["job", "show", "old-2000"])
        #expect(missStatus == 1 && miss.contains("oldest 1000 and newest 1000 entries") && miss.contains("--whole-stream"), "\(miss)")
        let (wholeStatus, whole) = try await h.run(["job", "show", "--whole-stream", "old-2000"])
        #expect(wholeStatus == 0 && whole.contains("state:       ready"), "\(whole)")
    }

    /// A retried job's failed attempts are listed, in text and in the JSON envelope, phone numbers masked.
    @Test func aRetriedJobsFailedAttemptsAreListed() async throws {
        let h = try CLIHarness()
        var envelope = JobEnvelope(id: "retried-1", type: "diag.record", payload: .object([:]), attempt: 2, lastError: "provider down again")
        envelope.failedAttempts = [
            FailedAttempt(attempt: 1, at: Date().timeIntervalSince1970 - 120, error: "provider down"),
            FailedAttempt(attempt: 2, at: Date().timeIntervalSince1970 - 60, error: "invalid receptor PHONE"),
        ]
        let text = String(decoding: envelope.encoded(), as: UTF8.self).replacingOccurrences(of: "PHONE", with: "+989121234567")
        let k = h.jobs.keys("default")
        _ = try await h.redis.pipeline([
            RedisCommand("HSET", [k.scheduledJobs, "retried-1", text]), RedisCommand("ZADD", k.scheduled, String(Date().timeIntervalSince1970 + 600), "retried-1"),
        ])
        let (status, output) = try await h.run(["job", "show", "retried-1"])
        #expect(status == 0 && output.contains("failed attempts") && output.contains("  1: ") && output.contains("provider down"), "\(output)")
        #expect(output.contains("invalid receptor") && !output.contains("9121234567"), "\(output)")
        let (_, json) = try await h.json(["job", "show", "retried-1", "--json"])
        guard case .array(let listed) = json["envelope"]?["failed_attempts"], listed.count == 2 else { Issue.record("\(json)"); return }
        #expect(listed[1]["attempt"] == .integer(2) && listed[0]["error"] == .string("provider down"), "\(json)")
        #expect(!"\(json)".contains("9121234567"))
    }
}
