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
}
