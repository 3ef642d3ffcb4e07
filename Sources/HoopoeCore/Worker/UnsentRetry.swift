import Redis

/// A call to Redis made again while it failed in a way that may be retried, backing off from a quarter of a second to
/// two, until a deadline (``WorkerOptions/unsentAcknowledgementRetry`` from the first try) or "stop now"
/// (``RetryCutoff``): the hand-backs' and the settles' way through an outage (decision 0098), one copy of it.
///
/// The deadline bounds the last try's end, not its start: a try is made again only if it would still end by the
/// deadline taking as long as the longest failed try so far (``leavesTime(now:pause:longestTry:deadline:)``). With
/// Redis unreachable each try waits out the client's reconnect window (3 s, a connect timeout more for a host that
/// drops packets), and a last try started just before the deadline ran that much past it: a worker stopped with Redis
/// away took ~60 s, not the 55 s (drain and retry) the deploy files allow for (a review measured 59.85 s).
///
/// The pauses are not cut short by the caller's cancellation (a background round ends at draining; a run taken over at
/// its timeout): the calls would otherwise follow each other with no pause until the deadline.
struct UnsentRetry {
    /// Until when a failed call is made again.
    let deadline: ContinuousClock.Instant
    /// Set by "stop now": a failed call is not made again.
    let cutoff: RetryCutoff
    /// Told of a try Redis refused for want of writes, and of a call that lands after failures, each of the queue
    /// ``run(_:queue:mayTryAgain:failedOnce:)`` names: that queue's fetch pauses meanwhile (``WriteRefusals``).
    let refusals: WriteRefusals?

    init(for limit: Duration, cutoff: RetryCutoff, refusals: WriteRefusals? = nil) {
        deadline = ContinuousClock.now + limit
        self.cutoff = cutoff
        self.refusals = refusals
    }

    /// `call`'s result, made again while it throws a ``RedisError`` that `mayTryAgain` accepts and time is left;
    /// `failedOnce` is told of the first such failure (to warn once). Any other error, or one when no time is left, is
    /// thrown.
    /// - Parameter queue: the queue whose jobs `call` settles: its refusals and its landing after them are told to
    ///   ``refusals`` as that queue's (on a cluster, one node's refusal pauses only its queues' fetch: decision 0111).
    ///   Required, not defaulted: a call that left it out would tell no refusal, and its fetch would not pause.
    @discardableResult
    func run<T>(
        _ call: () async throws -> T, queue: String, mayTryAgain: (RedisError) -> Bool, failedOnce: (RedisError) -> Void
    ) async throws -> T {
        var pause = Duration.milliseconds(250)
        var failed = false
        var longestTry = Duration.zero
        while true {
            let started = ContinuousClock.now
            do {
                let result = try await call()
                if failed { refusals?.landed(queue: queue) }
                return result
            } catch let error as RedisError where mayTryAgain(error) {
                let now = ContinuousClock.now
                longestTry = max(longestTry, now - started)
                if error.refusesWrites { refusals?.refused(error, queue: queue) }
                guard Self.leavesTime(now: now, pause: pause, longestTry: longestTry, deadline: deadline), !cutoff.isCut else { throw error }
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

    /// Whether a try made after `pause` would still end by `deadline` if it took `longestTry` (the longest failed try
    /// so far): the deadline is the last try's end. Shared by the acknowledger's retry (``Acknowledger``).
    static func leavesTime(now: ContinuousClock.Instant, pause: Duration, longestTry: Duration, deadline: ContinuousClock.Instant) -> Bool {
        now + pause + longestTry < deadline
    }
}
