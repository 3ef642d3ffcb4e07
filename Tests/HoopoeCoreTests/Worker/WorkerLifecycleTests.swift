@testable import HoopoeCore
import Testing

/// The worker's state moves forward only, each event once, and waiters wake on the state they asked for.
@Suite struct WorkerLifecycleTests {
    @Test func statesMoveForwardOnlyAndEachEventCountsOnce() {
        let lifecycle = WorkerLifecycle(runners: 1)
        #expect(lifecycle.current == .running)
        #expect(lifecycle.quiet())
        #expect(!lifecycle.quiet(), "quiet twice is one event")
        #expect(lifecycle.current == .quiet)
        #expect(lifecycle.drain())
        #expect(!lifecycle.drain(), "a second shutdown is not a second drain")
        #expect(!lifecycle.quiet(), "a draining worker does not go back to quiet")
        #expect(lifecycle.current == .draining)
        #expect(lifecycle.stopNow() != nil)
        #expect(lifecycle.stopNow() == nil, "stop now happens once")
        lifecycle.runnerEnded()
        #expect(lifecycle.current == .stopped)
        #expect(lifecycle.stopNow() == nil && !lifecycle.drain())
    }

    @Test func stopNowHandsOverTheRunningJobsAndALaterJobIsToBeInterrupted() {
        let lifecycle = WorkerLifecycle(runners: 3)
        let first = RunningJob(key: "1-0", queue: "default", slot: 0, timeout: .seconds(60))
        #expect(!lifecycle.register(first), "a job that starts while running runs")
        #expect(lifecycle.busy == 1)
        #expect(lifecycle.drain())
        let second = RunningJob(key: "2-0", queue: "default", slot: 1, timeout: .seconds(60))
        #expect(!lifecycle.register(second), "draining lets a job that started finish")
        let interrupted = lifecycle.stopNow() ?? []
        #expect(Set(interrupted.map(\.key)) == ["1-0", "2-0"])
        let late = RunningJob(key: "3-0", queue: "default", slot: 2, timeout: .seconds(60))
        #expect(lifecycle.register(late), "a job that starts after stop-now is interrupted at once")
        lifecycle.unregister(first)
        lifecycle.unregister(second)
        lifecycle.unregister(late)
        #expect(lifecycle.busy == 0)
    }

    @Test func theLastRunnerMakesTheWorkerStoppedAndWakesItsWaiters() async {
        let lifecycle = WorkerLifecycle(runners: 2)
        let draining = Task { await lifecycle.wait(until: .draining) }
        let stopped = Task { await lifecycle.wait(until: .stopped) }
        #expect(lifecycle.drain())
        await draining.value
        lifecycle.runnerEnded()
        #expect(lifecycle.current == .draining, "one runner of two is still settling its job")
        lifecycle.runnerEnded()
        await stopped.value
        #expect(lifecycle.current == .stopped)
        await lifecycle.wait(until: .quiet)  // already past: returns at once
    }

    @Test func aCancelledWaiterReturns() async {
        let lifecycle = WorkerLifecycle(runners: 1)
        let waiter = Task { await lifecycle.wait(until: .stopped) }
        waiter.cancel()
        await waiter.value
        #expect(lifecycle.current == .running)
    }
}
