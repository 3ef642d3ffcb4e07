#if canImport(Glibc)
import Glibc
#endif

/// When an attempt started, on the monotonic clock, as nanoseconds: what a job's duration (logs, history, metrics) is
/// measured from.
///
/// Why not `ContinuousClock`: its `now` builds a `Duration` of 128-bit attoseconds (a 128-bit multiply), and turning
/// the difference back into seconds (`Duration.components`) divides one: ~650 instructions a job fewer without them
/// (45,646 → 44,997), for a figure read as a `Double` of seconds (callgrind, session 26). Deadlines stay `ContinuousClock` instants (``RunningJob``), where
/// the `Task.sleep` that waits for them wants one.
struct AttemptClock {
    private let nanoseconds: UInt64

    private init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }

    static var now: AttemptClock {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return AttemptClock(nanoseconds: UInt64(spec.tv_sec) &* 1_000_000_000 &+ UInt64(spec.tv_nsec))
    }

    /// Seconds from this instant to now (0 if the clock reads earlier, which a monotonic clock never should).
    var secondsElapsed: Double {
        let now = AttemptClock.now.nanoseconds
        return now >= nanoseconds ? Double(now - nanoseconds) / 1e9 : 0
    }
}
