import Foundation
import HTTPTypes
import HoopoeCore
import HoopoeJSON
import Redis
import Testing

/// The overview's per-queue chart scales today's counters, which anyone with Redis can edit.
@Suite struct BarChartTests {
    /// A counter of -9e18, scaled to the chart's width, was past any Int: the conversion trapped and took the
    /// dashboard down (here, the test runner) with one page view. A negative count draws no bar.
    @Test func aHugeNegativeCounterDrawsNoBarAndDoesNotCrashTheOverview() async throws {
        let harness = try DashboardHarness()
        try await harness.jobs.enqueue(type: "diag.record", payload: .object([:]))
        try await harness.setTodaysCounters([("processed:diag.record", "-9000000000000000000"), ("failed:diag.record", "1")])
        let page = try await harness.get("/")
        #expect(page.status == .ok)
        #expect(page.text.contains("<title>processed: -9000000000000000000</title>"), "the count is shown as it is")
    }
}
