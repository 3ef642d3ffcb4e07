import Redis
import Synchronization

/// Whether Redis is refusing this worker's settles for want of writes (``RedisError/refusesWrites``: `OOM` at
/// `maxmemory`, `NOREPLICAS` under `min-replicas-to-write`, `MISCONF` after a failed save, `READONLY` on a replica):
/// told by the settles' retries (``UnsentRetry``, ``Acknowledger``), read by the fetch loop, which pauses meanwhile.
///
/// Why: under `maxmemory` Redis still serves `XREADGROUP` (no `denyoom` command), so a worker went on taking jobs it
/// could not settle: in a 20-s `OOM` a review saw 50 of 60 jobs start, their handlers' own writes refused, and every
/// one run again after its lease. A run may act outside Redis (an SMS sent) and then fail to record it. Paused, only
/// the jobs already fetched run; the settles are tried again meanwhile, their leases held (decision 0098).
///
/// Fetching resumes when a refused settle lands, or ``hold`` after the last refusal: the settles are tried every 2 s
/// at most, so a refusal that lasts keeps it paused, and one whose settles all gave up (or landed unseen) does not
/// keep it paused for good; the next fetch's jobs then find out. Nothing here is read or written on a settle that
/// met no failure, and the fetch reads one atomic flag a round.
final class WriteRefusals: Sendable {
    /// How long after the last refused try fetching stays paused: longer than the longest pause between two tries (2 s).
    static let hold: Duration = .seconds(5)

    private struct State {
        var until: ContinuousClock.Instant?
        var error: RedisError?
    }

    private let state = Mutex(State())
    /// Whether ``state`` holds a refusal: the fetch's one read on its normal path.
    private let active = Atomic(false)

    /// A settle Redis refused for want of writes.
    func refused(_ error: RedisError) {
        state.withLock {
            $0.until = ContinuousClock.now + Self.hold
            $0.error = error
            active.store(true, ordering: .releasing)
        }
    }

    /// A settle that failed before landed: Redis takes writes again.
    func landed() {
        guard active.load(ordering: .acquiring) else { return }
        state.withLock {
            $0 = State()
            active.store(false, ordering: .releasing)
        }
    }

    /// The refusal fetching pauses for, nil when there is none (or its ``hold`` has passed).
    func current(now: ContinuousClock.Instant = .now) -> RedisError? {
        guard active.load(ordering: .acquiring) else { return nil }
        return state.withLock { state -> RedisError? in
            if let until = state.until, now < until { return state.error }
            // Past its hold: the flag goes down under the lock, so a refusal told meanwhile raises it again after.
            state = State()
            active.store(false, ordering: .releasing)
            return nil
        }
    }
}
