import Redis

/// A call to Redis made again while it failed in a way that may be retried, backing off from a quarter of a second to
/// two, until a deadline (``WorkerOptions/unsentAcknowledgementRetry`` from the first try) or "stop now"
/// (``RetryCutoff``): the hand-backs' and the settles' way through an outage (decision 0098), one copy of it.
///
/// The pauses are not cut short by the caller's cancellation (a background round ends at draining; a run taken over at
/// its timeout): the calls would otherwise follow each other with no pause until the deadline.
struct UnsentRetry {
    /// Until when a failed call is made again.
    let deadline: ContinuousClock.Instant
    /// Set by "stop now": a failed call is not made again.
    let cutoff: RetryCutoff

    init(for limit: Duration, cutoff: RetryCutoff) {
        deadline = ContinuousClock.now + limit
        self.cutoff = cutoff
    }

    /// `call`'s result, made again while it throws a ``RedisError`` that `mayTryAgain` accepts and time is left;
    /// `failedOnce` is told of the first such failure (to warn once). Any other error, or one past the deadline, is
    /// thrown.
    @discardableResult
    func run<T>(
        _ call: () async throws -> T, mayTryAgain: (RedisError) -> Bool, failedOnce: (RedisError) -> Void
    ) async throws -> T {
        var pause = Duration.milliseconds(250)
        var failed = false
        while true {
            do {
                return try await call()
            } catch let error as RedisError where mayTryAgain(error) && ContinuousClock.now + pause < deadline && !cutoff.isCut {
                if !failed {
                    failedOnce(error)
                    failed = true
                }
                let wait = pause
                await Task.detached { try? await Task.sleep(for: wait) }.value
                pause = min(pause * 2, .seconds(2))
            }
        }
    }
}
