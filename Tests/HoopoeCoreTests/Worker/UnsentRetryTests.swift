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
    ///
    /// The time the retry adds is measured around the try, not across it: a loaded machine stretches the try's own
    /// sleep (a task woken late on a busy cooperative pool; once past the 1 s of slack a bound on the whole allowed),
    /// which is no time the retry took. Nothing the retry does before the try or between the try's throw and its own
    /// is awaited, so anything near its first pause (0.25 s) means it waited.
    @Test func theLastTryEndsByTheDeadline() async throws {
        let tries = Mutex(0)
        let tryTook = Mutex<(started: ContinuousClock.Instant, ended: ContinuousClock.Instant)?>(nil)
        let started = ContinuousClock.now
        await #expect(throws: RedisError.self) {
            try await UnsentRetry(for: .seconds(2), cutoff: RetryCutoff()).run(
                {
                    let tryStarted = ContinuousClock.now
                    tries.withLock { $0 += 1 }
                    try await Task.sleep(for: .milliseconds(1500))
                    tryTook.withLock { $0 = (tryStarted, ContinuousClock.now) }
                    throw RedisError(.connectionFailed, endpoint: "test", message: "cannot connect")
                }, queue: "default", mayTryAgain: { _ in true }, failedOnce: { _ in })
        }
        let gaveUp = ContinuousClock.now
        #expect(tries.withLock { $0 } == 1, "a try that could not end by the deadline was begun")
        let theTry = try #require(tryTook.withLock { $0 })
        #expect(theTry.started - started < .milliseconds(200), "the try began \(theTry.started - started) after the call")
        #expect(gaveUp - theTry.ended < .milliseconds(200), "gave up \(gaveUp - theTry.ended) after the try failed: it paused for another")
    }

    /// Tries that fail at once are still made until the deadline (the bound takes nothing from a quick refusal).
    @Test func quickFailuresAreTriedUntilTheDeadline() async throws {
        // Quiet, pauses of 0.25 and 0.5 s fit in 1 s: three tries. A loaded machine oversleeps a pause and may leave room
        // for two (a count of three failed once beside other builds), so what is checked is the rule itself: the retry
        // gave up only when the next pause and the longest try no longer fitted before its deadline. Each try's time is
        // bounded from outside, never less than the retry's own measure, so a stall can only make the check easier, and a
        // retry that stops early fails it.
        let entries = Mutex<[ContinuousClock.Instant]>([])
        let start = ContinuousClock.now
        await #expect(throws: RedisError.self) {
            try await UnsentRetry(for: .seconds(1), cutoff: RetryCutoff()).run(
                {
                    entries.withLock { $0.append(ContinuousClock.now) }
                    throw RedisError(.server, endpoint: "test", message: "OOM command not allowed when used memory > 'maxmemory'.")
                }, queue: "default", mayTryAgain: Acknowledger.notRun, failedOnce: { _ in })
        }
        let gaveUp = ContinuousClock.now
        let tries = entries.withLock { $0 }
        let pauses = (0..<tries.count).map { min(Duration.milliseconds(250) * (1 << $0), .seconds(2)) }
        // Try i began after the call (i = 0) or the pause after try i - 1, and had ended when its own pause began (or, the
        // last, when the retry gave up): its time as the retry measures it is at most that span.
        let longestTry = tries.indices.map { i in
            let began = i == 0 ? start : tries[i - 1] + pauses[i - 1]
            let ended = i == tries.count - 1 ? gaveUp : tries[i + 1] - pauses[i]
            return ended - began
        }.max() ?? .zero
        #expect(gaveUp + pauses[tries.count - 1] + longestTry >= start + .seconds(1), "gave up with time for another try: \(tries.count) tries")
        #expect(tries.count <= 3, "a fourth try would have begun after 1.75 s of pauses")
    }
}
