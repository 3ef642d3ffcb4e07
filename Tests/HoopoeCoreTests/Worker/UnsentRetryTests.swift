import Redis
import Synchronization
import Testing

@testable import HoopoeCore

/// The retry of a call Redis did not take (``UnsentRetry``, decision 0098) ends by its deadline: a try is made again
/// only if it would still end by the deadline taking as long as the longest failed try so far. Before, the deadline
/// bounded a try's start only: with Redis unreachable each try waits out the client's reconnect window, and a worker
/// stopped with Redis away took ~60 s (a review measured 59.85 s with the default 25 s drain), past the 55 s the
/// deploy files allow for.
@Suite struct UnsentRetryTests {
    /// The arithmetic: with 3 s tries (the reconnect window), a try after a half-second pause starts at 26 s of a 30 s
    /// retry (it ends at 29.5 s), not at 27 s (it would end at 30.5 s).
    @Test func aTryIsMadeAgainOnlyIfItCanEndByTheDeadline() {
        let start = ContinuousClock.now
        let deadline = start + .seconds(30)
        #expect(UnsentRetry.leavesTime(now: start + .seconds(26), pause: .milliseconds(500), longestTry: .seconds(3), deadline: deadline))
        #expect(!UnsentRetry.leavesTime(now: start + .seconds(27), pause: .milliseconds(500), longestTry: .seconds(3), deadline: deadline))
        // A refusal answered at once (`OOM`, `LOADING`) takes no time: tried until the pause no longer fits.
        #expect(UnsentRetry.leavesTime(now: start + .seconds(29), pause: .milliseconds(500), longestTry: .zero, deadline: deadline))
    }

    /// Each try takes 1.5 s to fail and the retry has 2 s: one try, given up at 1.5 s. Before, a second began at 1.75 s
    /// (its pause fit before the deadline) and ended at 3.25 s, 1.25 s past it.
    @Test func theLastTryEndsByTheDeadline() async throws {
        let tries = Mutex(0)
        let started = ContinuousClock.now
        await #expect(throws: RedisError.self) {
            try await UnsentRetry(for: .seconds(2), cutoff: RetryCutoff()).run(
                {
                    tries.withLock { $0 += 1 }
                    try await Task.sleep(for: .milliseconds(1500))
                    throw RedisError(.connectionFailed, endpoint: "test", message: "cannot connect")
                }, queue: "default", mayTryAgain: { _ in true }, failedOnce: { _ in })
        }
        let elapsed = ContinuousClock.now - started
        #expect(tries.withLock { $0 } == 1, "a try that could not end by the deadline was begun")
        #expect(elapsed < .milliseconds(2500), "gave up after \(elapsed), past the 2 s deadline")
    }

    /// Tries that fail at once are still made until the deadline (the bound takes nothing from a quick refusal).
    @Test func quickFailuresAreTriedUntilTheDeadline() async throws {
        let tries = Mutex(0)
        await #expect(throws: RedisError.self) {
            try await UnsentRetry(for: .seconds(1), cutoff: RetryCutoff()).run(
                {
                    tries.withLock { $0 += 1 }
                    throw RedisError(.server, endpoint: "test", message: "OOM command not allowed when used memory > 'maxmemory'.")
                }, queue: "default", mayTryAgain: Acknowledger.notRun, failedOnce: { _ in })
        }
        // Pauses of 0.25 and 0.5 s fit in 1 s: three tries.
        #expect(tries.withLock { $0 } == 3)
    }
}
