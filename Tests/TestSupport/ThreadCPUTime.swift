#if canImport(Glibc)
import Glibc
#endif

/// The CPU time the calling thread spends in `body`: what a "this search is fast" test bounds. Wall time on a loaded
/// machine also counts the waits for a core (the parallel phase runs 8 tests on 2), which a correct program cannot
/// help; the thread's CPU time does not. `body` is synchronous, so it runs on this thread throughout.
public func threadCPUTime(_ body: () throws -> Void) rethrows -> Duration {
    func now() -> Duration {
        var spec = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
        return .seconds(spec.tv_sec) + .nanoseconds(spec.tv_nsec)
    }
    let start = now()
    try body()
    return now() - start
}
