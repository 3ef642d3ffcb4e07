@testable import HoopoeCore
import Synchronization
import TestSupport
import Testing

/// One loop times out every running job at its own deadline, sleeping toward the earliest.
@Suite struct TimeoutWatchdogTests {
    /// Set by the attempt's take-over when the watchdog ends it.
    private final class Ended: Sendable {
        private let outcome = Mutex<String?>(nil)
        var current: String? { outcome.withLock { $0 } }
        func record(_ ended: RunningJob.Outcome) {
            outcome.withLock {
                if case .timedOut = ended { $0 = "timedOut" } else { $0 = "other" }
            }
        }
    }

    /// A job whose handler waits (ignoring cancellation) until the test lets it go; returns what ended it.
    ///
    /// Timed out before its task got to `run` (a loaded machine can start a task later than a 200 ms deadline), the
    /// attempt's outcome is what `run` returns, with no take-over: it is recorded from there too. (Dropped, as it
    /// was until session 37, the test waited for a take-over that never came: it failed so once in `make test`.)
    private func start(_ job: RunningJob, watchdog: TimeoutWatchdog, gate: TestGate) -> Ended {
        let ended = Ended()
        watchdog.add(job)
        Task {
            if let outcome = await job.run(takeOver: ended.record, { await gate.wait() }) { ended.record(outcome) }
        }
        return ended
    }

    /// The loop sleeps toward the deadline of the job it knows (a minute away); a job added then with a deadline 200 ms
    /// away wakes it, and is timed out at its own deadline, not the minute's.
    @Test func aNearerDeadlineAddedWhileTheLoopSleepsWakesIt() async throws {
        let watchdog = TimeoutWatchdog(slots: 2)
        let loop = Task { await watchdog.run() }
        let gate = TestGate()
        defer { gate.open() }
        let far = start(RunningJob(key: "1-0", queue: "default", slot: 0, timeout: .seconds(60)), watchdog: watchdog, gate: gate)
        try await Task.sleep(for: .milliseconds(100))  // the loop now sleeps until the far deadline
        let near = start(RunningJob(key: "2-0", queue: "default", slot: 1, timeout: .milliseconds(200)), watchdog: watchdog, gate: gate)
        #expect(try await eventually(timeout: .seconds(10)) { near.current == "timedOut" })
        #expect(far.current == nil, "the job a minute from its deadline still runs")
        watchdog.stop()
        await loop.value
    }

    /// A job removed before its deadline (it ended) is not timed out, and the jobs after it still are.
    @Test func aRemovedJobIsNotTimedOut() async throws {
        let watchdog = TimeoutWatchdog(slots: 2)
        let loop = Task { await watchdog.run() }
        let gate = TestGate()
        defer { gate.open() }
        let removedJob = RunningJob(key: "1-0", queue: "default", slot: 0, timeout: .milliseconds(100))
        let removed = start(removedJob, watchdog: watchdog, gate: gate)
        watchdog.remove(removedJob)
        let kept = start(RunningJob(key: "2-0", queue: "default", slot: 1, timeout: .milliseconds(300)), watchdog: watchdog, gate: gate)
        #expect(try await eventually(timeout: .seconds(10)) { kept.current == "timedOut" })
        #expect(removed.current == nil)
        watchdog.stop()
        await loop.value
    }
}
