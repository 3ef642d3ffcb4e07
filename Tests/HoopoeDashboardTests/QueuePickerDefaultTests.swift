import Foundation
import HoopoeCore
import HoopoeJSON
import Testing

/// Without `?queue=`, the Dead and Scheduled pages open on the first queue that has something to show, not the first by
/// name: the Dead page opened on an empty `critical` while `default` held the dead jobs, and its Retry all / Delete all
/// pointed at the empty queue.
struct QueuePickerDefaultTests {
    @Test func theDeadPageOpensOnTheFirstQueueWithDeadJobs() async throws {
        let harness = try DashboardHarness()
        // `critical` is known (a ready job) and sorts first; only `default` has dead jobs.
        try await harness.jobs.enqueue(type: "diag.record", payload: .object([:]), options: EnqueueOptions(queue: "critical"))
        let id = try await harness.bury(queue: "default")
        let page = try await harness.get("/dead").text
        #expect(page.contains("<strong>default (1)</strong>") && page.contains("critical (0)"), "\(page)")
        #expect(page.contains(id), "\(page)")
        #expect(page.contains("Retry all in default") && page.contains("Delete all in default"), "\(page)")
        #expect(!page.contains("Retry all in critical") && !page.contains("Delete all in critical"), "\(page)")
        // Asked for, the empty queue is still shown.
        let asked = try await harness.get("/dead?queue=critical").text
        #expect(asked.contains("<strong>critical (0)</strong>") && !asked.contains(id), "\(asked)")
    }

    @Test func theScheduledPageOpensOnTheFirstQueueWithScheduledJobs() async throws {
        let harness = try DashboardHarness()
        try await harness.jobs.enqueue(type: "diag.record", payload: .object([:]), options: EnqueueOptions(queue: "critical"))
        let id = try #require(
            try await harness.jobs.enqueue(type: "diag.record", payload: .object([:]), options: EnqueueOptions(queue: "default", runAt: Date() + 3600))
                .createdID)
        let page = try await harness.get("/scheduled").text
        #expect(page.contains("<strong>default (1)</strong>") && page.contains(id), "\(page)")
    }

    /// With nothing anywhere, the first queue by name, as before.
    @Test func withNothingToShowTheFirstQueueByName() async throws {
        let harness = try DashboardHarness()
        for queue in ["default", "critical"] {
            try await harness.jobs.enqueue(type: "diag.record", payload: .object([:]), options: EnqueueOptions(queue: queue))
        }
        #expect(try await harness.get("/dead").text.contains("<strong>critical (0)</strong>"))
        #expect(try await harness.get("/scheduled").text.contains("<strong>critical (0)</strong>"))
    }
}
