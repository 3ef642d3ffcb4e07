#if canImport(Glibc)
import Glibc
#endif

/// A mutex that spins a little before it sleeps: glibc's adaptive mutex (`PTHREAD_MUTEX_ADAPTIVE_NP`).
///
/// Why: ``RedisConnection``'s lock is held for a few hundred nanoseconds at a time (a request appended, a batch taken),
/// by the job runners and the connection's thread at once. Foundation's `NSLock` is a plain pthread mutex, which on
/// contention sleeps in `futex` at once, and its owner makes a second `futex` call to wake it: on a worker at full load
/// those two were 13 % of the process's `futex` calls, each one a system call, and each sleep a context switch
/// (docs/benchmarks.md, session 16). Spinning for the moment the owner holds it costs less. Swift's `Mutex` spins too,
/// but only within `withLock`, and the connection releases its lock around waits and callbacks in the middle of its
/// methods (decision 0058).
///
/// - Note: `@unchecked Sendable` is sound because the mutex is what makes it safe to share: the pthread mutex lives at
///   a fixed address, allocated here and freed in `deinit`, and is only used through `pthread_mutex_lock`/`unlock`.
final class AdaptiveLock: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    init() {
        mutex = .allocate(capacity: 1)
        var attributes = pthread_mutexattr_t()
        pthread_mutexattr_init(&attributes)
        pthread_mutexattr_settype(&attributes, Int32(PTHREAD_MUTEX_ADAPTIVE_NP))
        let made = pthread_mutex_init(mutex, &attributes)
        pthread_mutexattr_destroy(&attributes)
        precondition(made == 0, "pthread_mutex_init failed: \(made)")
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    func lock() {
        pthread_mutex_lock(mutex)
    }

    func unlock() {
        pthread_mutex_unlock(mutex)
    }
}
