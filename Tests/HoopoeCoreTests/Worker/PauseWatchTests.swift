import Foundation
import HoopoeCore
import HoopoeJSON
import TestSupport
import Testing

/// ``PauseWatch`` wakes the blocked fetch on a change (decision 0029): with a fetch that blocks 10 s, a pause keeps the
/// queue's next job from running, and a resume starts it at once, well inside the block time (without the wake-up
/// the resume waits out the 10 s read that leaves the queue out).
@Suite(.serialized) struct PauseWatchTests {
    @Test func aChangeWakesAFetchBlockedForTenSeconds() async throws {
        let h = try EngineHarness()
        var options = WorkerOptions.fastTest(queues: ["default", "other"], concurrency: 2)
        options.fetchBlock = .seconds(10)
        options.pauseCheckInterval = .milliseconds(200)
        let (worker, task) = h.startWorker(options: options)
        let key = "\(h.namespace):woken"
        func enqueue(_ member: String) async throws {
            _ = try await h.jobs.enqueue(type: "diag.record", payload: h.diag(key: key, member: member))
        }
        try await enqueue("before")
        #expect(try await h.eventually { try await h.recorded(key).count == 1 }, "the worker runs, its fetch now blocked on both queues")

        // The read blocked before the pause is woken (and even a read that took this job would have it refused by the
        // buffer and handed back): the job stays ready and does not run.
        #expect(try await h.jobs.pause(queue: "default"))
        try await Task.sleep(for: .milliseconds(600))
        try await enqueue("while-paused")
        try await Task.sleep(for: .milliseconds(800))
        #expect(try await h.recorded(key).count == 1, "a blocked read took a job of the paused queue")
        #expect(try await h.jobs.info(queue: "default").ready == 1)

        // Without the wake-up, the read that leaves `default` out would block for 10 s before the next one includes it.
        let resumed = ContinuousClock.now
        #expect(try await h.jobs.resume(queue: "default"))
        #expect(try await h.eventually(timeout: .seconds(5)) { try await h.recorded(key).count == 2 })
        #expect(ContinuousClock.now - resumed < .seconds(3), "resume waited for the blocked read: \(ContinuousClock.now - resumed)")
        worker.shutdown()
        try await task.value
    }
}
