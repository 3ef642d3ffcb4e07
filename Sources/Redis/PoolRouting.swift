import Synchronization

/// Where a ``RedisClient`` sends the calls of tasks that prefer none of its pooled connections' threads
/// (``RedisClient/connectionExecutors``); a task that prefers one always sends on that one.
///
/// Round the pool spreads a busy process's calls over the connections' threads. On the first only, the calls of a
/// process at low load share one thread's writes and reads: the second thread is not woken for calls the first could
/// batch, which on 2 cores lowered the enqueue-to-start latency at 10,000 jobs/s (decision 0076). At full load the
/// flushes of acknowledgements, all on one connection, carried fewer a call, so a worker routes by the fetch.
public enum PoolRouting: UInt8, AtomicRepresentable, Sendable {
    /// Each call on the next connection in turn (the default).
    case roundRobin
    /// Every call on the pool's first connection.
    case first
}
