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
        let utc = DateFormatter()
        utc.locale = Locale(identifier: "en_US_POSIX")
        utc.timeZone = TimeZone(identifier: "UTC")
        utc.dateFormat = "yyyy-MM-dd"
        for day in Set([Date(), Date() + 30].map(utc.string(from:))) {  // today's, and tomorrow's near midnight
            _ = try await harness.redis.send("HSET", harness.jobs.keys("default").stats(day: day), "processed:diag.record", "-9000000000000000000", "failed:diag.record", "1")
        }
        let page = try await harness.get("/")
        #expect(page.status == .ok)
        #expect(page.text.contains("<title>processed: -9000000000000000000</title>"), "the count is shown as it is")
    }
}
