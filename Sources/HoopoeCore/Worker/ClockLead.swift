import Foundation
import Synchronization

/// How far this worker's clock may run ahead of Redis's, per queue: what the early-arrival check
/// (``Worker/execute(_:slot:lastEntry:)``) allows for before it trusts its own clock.
///
/// jobs/PROTOCOL.md promises that Redis's clock decides when a plain-`XADD` job with a future `run_at` is due. The
/// worker checks `run_at` against its own clock first, so that a job with no future `run_at` costs no round trip; a
/// job that looks early is moved to the scheduled set by a script that reads Redis's clock and leaves it to run when
/// it is due there. That is exact for a worker whose clock is behind Redis's, but one that is Δ ahead took a job due
/// within Δ for due and ran it up to Δ early. So the check asks Redis about every `run_at` later than
/// `now − lead(queue)`.
///
/// The lead is learnt at no extra cost: each promotion round (``JobPromotion``, twice a second a queue) reads Redis's
/// clock in its script and returns it. Redis read its clock before this worker read its own after the reply, so
/// `local after − Redis's` is an upper bound on the lead (the reply's delay only widens it). The bound kept is the
/// smallest of the last ``window`` rounds' (a few seconds), so one slow reply widens it for no one; a clock that
/// steps forward is seen within those rounds. Before a queue's first round the lead is unknown, and every `run_at`
/// goes to Redis. On a cluster each queue's node reads its own clock, hence one bound a queue (decision 0081).
final class ClockLead: Sendable {
    /// How many rounds' bounds are kept a queue: ~4 s at the default promotion interval of 0.5 s.
    static let window = 8

    private let samples = Mutex([String: [Double]]())

    /// Records one promotion round's reading: Redis's clock (Unix seconds, as its script read it) and this worker's
    /// clock read after the reply came.
    func record(queue: String, redisTime: Double, localAfter: Double) {
        let bound = localAfter - redisTime
        samples.withLock { all in
            var kept = all[queue] ?? []
            if kept.count == Self.window { kept.removeFirst() }
            kept.append(bound)
            all[queue] = kept
        }
    }

    /// Redis's clock for `queue` as near as this worker knows it: its own clock less the lead's bound (unchanged before
    /// the queue's first reading). The bound is over by the promotion reply's delay at most, so this is behind Redis's
    /// by that much: a retry timed by it (``Worker``'s retry) is due that much early, not a host clock's error early
    /// or late.
    func redisNow(queue: String, local: Double = Date().timeIntervalSince1970) -> Double {
        let lead = bound(queue: queue)
        return lead.isFinite ? local - lead : local
    }

    /// An upper bound, in seconds, on how far this worker's clock is ahead of Redis's for `queue` (negative when it
    /// is known to be behind); infinity before the queue's first reading.
    func bound(queue: String) -> Double {
        samples.withLock { $0[queue]?.min() } ?? .infinity
    }
}
