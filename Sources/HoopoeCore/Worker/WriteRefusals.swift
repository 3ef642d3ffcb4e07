import Redis
import Synchronization

/// Which queues' settles Redis is refusing for want of writes (``RedisError/refusesWrites``: `OOM` at `maxmemory`,
/// `NOREPLICAS` under `min-replicas-to-write`, `MISCONF` after a failed save, `READONLY` on a replica), by queue name:
/// told by the settles' retries (``UnsentRetry``, ``Acknowledger``), each of its job's queue, and read by the fetch loops,
/// a loop pausing while a queue it reads is refused.
///
/// Why pause: under `maxmemory` Redis still serves `XREADGROUP` (no `denyoom` command), so a worker went on taking jobs
/// it could not settle: in a 20-s `OOM` a review saw 50 of 60 jobs start, their handlers' own writes refused, and every
/// one run again after its lease. A run may act outside Redis (an SMS sent) and then fail to record it. Paused, only
/// the jobs already fetched run; the settles are tried again meanwhile, their leases held (decision 0098).
///
/// Why by queue (decision 0111): on a Redis Cluster each queue lives on the node of its hash slot, and one node at
/// `maxmemory` refuses only its own queues' settles. Told for the whole worker, it paused every queue's fetch, the
/// healthy nodes' too, for as long as the refusal lasted (5 s after each refused try, tried every 2 s). Each cluster
/// fetch loop reads one queue (``Worker``), so it pauses for its own queue only. On one Redis the one fetch loop reads
/// every queue in one `XREADGROUP`, and pauses while any of them is refused: the refusal is the server's, so the other
/// queues' settles would be refused too; fetching them (the read narrowed to them) would run jobs that cannot settle.
///
/// A queue's fetching resumes when one of its refused settles lands, or ``hold`` after its last refusal: the settles
/// are tried every 2 s at most, so a refusal that lasts keeps it paused, and one whose settles all gave up (or landed
/// unseen) does not keep it paused for good; the next fetch's jobs then find out.
///
/// Cost: nothing is read or written on a settle that met no failure, and a fetch round reads one atomic flag
/// ("some queue is refused") while nothing is; only when it is raised does it take the lock to look up its queues.
final class WriteRefusals: Sendable {
    /// How long after a queue's last refused try its fetching stays paused: longer than the longest pause between two
    /// tries (2 s).
    static let hold: Duration = .seconds(5)

    /// The refusal a fetch loop pauses for: the refused queues among those it reads, and the last refusal's error.
    struct Refusal: Sendable {
        /// The refused queues among those asked about, in the order they were asked about.
        let queues: [String]
        /// The error of the latest refusal among them.
        let error: RedisError
    }

    /// A queue's refusal: until when it pauses its fetching, and why.
    private struct Told {
        var until: ContinuousClock.Instant
        var error: RedisError
    }

    /// The refused queues, by name.
    private let state = Mutex<[String: Told]>([:])
    /// Whether ``state`` holds a refusal: the fetch's one read on its normal path. Changed only under the lock.
    private let active = Atomic(false)

    /// A settle of a job of `queue` Redis refused for want of writes.
    func refused(_ error: RedisError, queue: String) {
        state.withLock {
            $0[queue] = Told(until: ContinuousClock.now + Self.hold, error: error)
            active.store(true, ordering: .releasing)
        }
    }

    /// A settle of a job of `queue` that failed before landed: Redis takes that queue's writes again.
    func landed(queue: String) {
        guard active.load(ordering: .acquiring) else { return }
        state.withLock {
            $0[queue] = nil
            active.store(!$0.isEmpty, ordering: .releasing)
        }
    }

    /// The refusal among `queues` that fetching them pauses for: nil when none of them is refused (or their ``hold``
    /// has passed).
    func current(among queues: [String], now: ContinuousClock.Instant = .now) -> Refusal? {
        guard active.load(ordering: .acquiring) else { return nil }
        return state.withLock { told -> Refusal? in
            // Those past their hold go, and the flag with the last of them, under the lock: a refusal told meanwhile
            // raises it again after.
            if told.values.contains(where: { now >= $0.until }) {
                told = told.filter { now < $0.value.until }
                active.store(!told.isEmpty, ordering: .releasing)
            }
            var refused: [String] = []
            var latest: Told?
            for queue in queues {
                guard let one = told[queue] else { continue }
                refused.append(queue)
                if latest.map({ one.until > $0.until }) ?? true { latest = one }
            }
            return latest.map { Refusal(queues: refused, error: $0.error) }
        }
    }

    /// The refusal of `queue`'s settles, nil when there is none (or its ``hold`` has passed).
    func current(queue: String, now: ContinuousClock.Instant = .now) -> RedisError? {
        current(among: [queue], now: now)?.error
    }
}
