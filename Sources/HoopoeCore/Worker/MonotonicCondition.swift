#if canImport(Glibc)
import Glibc
#endif

/// A mutex and a condition variable whose timed wait runs on the monotonic clock (`CLOCK_MONOTONIC`), for
/// ``LeaseThread``'s timers.
///
/// Why not Foundation's `NSCondition`: on Linux its `wait(until:)` is `pthread_cond_timedwait` on a condition made with
/// default attributes, so its deadline is a wall-clock time. A wall clock stepped back by Δ (NTP correcting a host that
/// ran ahead, a VM resumed or migrated) made the renewal thread sleep Δ longer: over ~8 s, no renewal landed within the
/// lease, another worker recovered jobs still running here and ran them again, and the heartbeat expired (a review found
/// it with strace: `FUTEX_CLOCK_REALTIME`). Decision 0032 times leases by each host's monotonic clock.
///
/// - Note: `@unchecked Sendable` is sound: the mutex and the condition live at fixed addresses, allocated here and freed
///   in `deinit`, and are only used through the pthread calls, which are what make sharing them safe.
final class MonotonicCondition: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>

    init() {
        mutex = .allocate(capacity: 1)
        condition = .allocate(capacity: 1)
        precondition(pthread_mutex_init(mutex, nil) == 0, "pthread_mutex_init failed")
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        precondition(pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC) == 0, "pthread_condattr_setclock failed")
        precondition(pthread_cond_init(condition, &attributes) == 0, "pthread_cond_init failed")
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    func lock() { pthread_mutex_lock(mutex) }

    func unlock() { pthread_mutex_unlock(mutex) }

    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock()
        defer { unlock() }
        return try body()
    }

    /// Wakes one waiter. Call it holding the lock.
    func signal() { pthread_cond_signal(condition) }

    /// Waits until signalled (or woken spuriously). Call it holding the lock.
    func wait() { pthread_cond_wait(condition, mutex) }

    /// Waits until signalled, or `seconds` have passed on the monotonic clock (or a spurious wake-up). Call it holding
    /// the lock.
    func wait(seconds: Double) {
        var deadline = timespec()
        clock_gettime(CLOCK_MONOTONIC, &deadline)
        let whole = seconds.rounded(.down)
        // At most a day at a time: the caller waits again (its timers are due later), and no conversion can overflow.
        let bounded = min(max(0, whole), 86_400)
        var nanoseconds = Int(deadline.tv_nsec) + (bounded == whole ? Int((seconds - whole) * 1e9) : 0)
        deadline.tv_sec += Int(bounded) + nanoseconds / 1_000_000_000
        nanoseconds %= 1_000_000_000
        deadline.tv_nsec = nanoseconds
        _ = pthread_cond_timedwait(condition, mutex, &deadline)
    }
}
