/// Runs the tasks that prefer it on their connection's own thread, between the thread's writes and reads.
///
/// A task whose every wait is a round trip on one connection (the worker's fetch loop: a blocking `XREADGROUP`, the
/// jobs handed to the runners, the next `XREADGROUP`) otherwise crosses threads twice a round trip: the reply's
/// completion wakes a pool thread to run the task on, and the next request wakes the connection's thread again to write
/// it. Run here (`withTaskExecutorPreference(connection.executor)`), the task goes on where the reply was read, and what
/// it sends is written as soon as it suspends, with no wake-up either way (decision 0061).
///
/// What such a task does runs while the connection's other requests wait: it should do little between its awaits, and
/// it waits, too, while the thread reads a reply. Tasks enqueued from elsewhere (a timer, another connection's reply)
/// wake the thread as a request does. After ``RedisConnection/close()`` has stopped the thread, jobs go to the global
/// executor instead, so none is left behind.
///
/// - Note: `@unchecked Sendable`: `connection` is set once, by the connection's init before it is shared, and is
///   `Sendable` itself. It is `weak` because the connection owns this: an executor kept after its connection is gone
///   hands its jobs to the global executor.
public final class RedisConnectionExecutor: TaskExecutor, @unchecked Sendable {
    weak var connection: RedisConnection?

    init() {}

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        guard let connection else {
            globalConcurrentExecutor.enqueue(job)
            return
        }
        connection.enqueueTask(job)
    }
}
