@testable import HoopoeCore
import Synchronization
import TestSupport
import Testing

/// An attempt's outcome is decided once: by the handler, which runs in the caller's task, or by a timeout or
/// interruption that comes first. One that comes while the handler runs hands the job to `takeOver` and cancels the
/// caller's task; the caller gets nil and must leave the job alone.
@Suite struct RunningJobTests {
    /// The outcomes `takeOver` was called with.
    private final class TakeOvers: Sendable {
        private let seen = Mutex<[String]>([])
        var all: [String] { seen.withLock { $0 } }
        func record(_ outcome: RunningJob.Outcome) { seen.withLock { $0.append(Self.name(outcome)) } }
        static func name(_ outcome: RunningJob.Outcome?) -> String {
            switch outcome {
            case .finished(.success)?: "success"
            case .finished(.failure)?: "failure"
            case .timedOut?: "timedOut"
            case .interrupted?: "interrupted"
            case .interruptedBeforeStart?: "interrupted before it started"
            case nil: "nil"
            }
        }
    }

    private struct Boom: Error {}

    @Test func theHandlersOwnEndIsTheOutcomeAndNothingIsTakenOver() async {
        let takeOvers = TakeOvers()
        let job = RunningJob(key: "1-0", queue: "default", slot: 0, timeout: .seconds(60))
        let outcome = await job.run(takeOver: takeOvers.record) {}
        #expect(TakeOvers.name(outcome) == "success")
        let failing = RunningJob(key: "2-0", queue: "default", slot: 0, timeout: .seconds(60))
        #expect(TakeOvers.name(await failing.run(takeOver: takeOvers.record) { throw Boom() }) == "failure")
        job.timeOut()
        failing.interrupt()
        #expect(takeOvers.all.isEmpty, "a timeout after the handler's end changes nothing")
    }

    @Test func aTimeoutBeforeTheHandlerStartsIsTheCallersToSettle() async {
        let takeOvers = TakeOvers()
        let job = RunningJob(key: "1-0", queue: "default", slot: 0, timeout: .seconds(60))
        job.interrupt()
        let ran = Mutex(false)
        let outcome = await job.run(takeOver: takeOvers.record) { ran.withLock { $0 = true } }
        #expect(TakeOvers.name(outcome) == "interrupted before it started", "no run to count in its attempts")
        #expect(!ran.withLock { $0 }, "the handler does not start")
        #expect(takeOvers.all.isEmpty)
    }

    /// The handler ignores cancellation until it is let go; the timeout does not wait for it.
    @Test func aTimeoutWhileTheHandlerRunsIsTakenOverAndCancelsTheCallersTask() async throws {
        let takeOvers = TakeOvers()
        let job = RunningJob(key: "1-0", queue: "default", slot: 0, timeout: .seconds(60))
        let started = TestGate()
        let release = TestGate()
        let sawCancel = Mutex(false)
        let runner = Task {
            await job.run(takeOver: takeOvers.record) {
                started.open()
                await release.wait()  // not a cancellation point: a handler that ignores its timeout
                sawCancel.withLock { $0 = Task.isCancelled }
            }
        }
        await started.wait()
        job.timeOut()
        #expect(takeOvers.all == ["timedOut"], "taken over at once, while the handler still runs")
        job.interrupt()
        #expect(takeOvers.all == ["timedOut"], "once")
        release.open()
        #expect(TakeOvers.name(await runner.value) == "nil", "the runner is told to leave the job alone")
        #expect(sawCancel.withLock { $0 }, "the handler's task was cancelled")
    }
}
