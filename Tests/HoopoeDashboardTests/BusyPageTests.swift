import Foundation
import HoopoeCore
import HoopoeJSON
import Redis
import Testing

/// The busy page's time column is `XPENDING`'s idle time, which each lease renewal (every 2 s) resets: headed "Held
/// for", it read "0s" for a job that had run 21 s, and docs/operating.md promised "since when". It is named for what it
/// is.
@Suite struct BusyPageTests {
    @Test func theTimeColumnSaysItCountsFromTheLastLeaseRenewal() async throws {
        let harness = try DashboardHarness()
        _ = try await harness.jobs.enqueue(type: "diag.record", payload: .object([:]), options: EnqueueOptions(queue: "default"))
        let keys = harness.jobs.keys("default")
        _ = try await harness.redis.pipeline([RedisCommand("XGROUP", "CREATE", keys.stream, QueueKeys.group, "0", "MKSTREAM")])
        _ = try await harness.redis.send("XREADGROUP", "GROUP", QueueKeys.group, "w1", "COUNT", "1", "STREAMS", keys.stream, ">")
        let page = try await harness.get("/busy")
        #expect(page.text.contains(">Lease renewed</th>"), "\(page.text)")
        #expect(page.text.contains("not how long the job has run"), "the header's tooltip says what it is not")
        #expect(!page.text.contains("Held for"), "\(page.text)")
        #expect(page.text.contains("s ago</td>"), "a time since, not a duration: \(page.text)")
    }
}
