import Redis
import Synchronization

/// Where the worker's runners run, as the fetch finds the queues (decision 0076): on Swift's global pool while there
/// is no backlog, on the client's shared connections' threads, half the runners on each, while there is one.
///
/// Through a backlog, a runner on a connection's thread sends its calls with that thread's next write and is resumed
/// where their replies are read, with no thread woken for either: the worker ran 1.1–1.8× the jobs a second that way
/// (decision 0072). At low load that cost latency: two busy connection threads, each woken for calls one could batch,
/// raised the enqueue-to-start p50 at 10,000 jobs/s by 0.1–0.2 ms. So without a backlog the runners run on the pool,
/// and the client sends every call of a task that prefers no connection on its first (``PoolRouting/first``): the
/// design before decision 0072.
///
/// The fetch loop reports each fetch's finding (``record(backlog:)``); a runner looks after each take and moves, with
/// the job it took, when the placement changed (``Worker/runnerLoop(slot:)``). With one connection, or on a cluster
/// (whose calls go on the nodes' connections), the runners always run on the pool and the client's routing is left
/// alone.
final class RunnerPlacement: Sendable {
    /// The shared connections' executors; empty when the runners always run on the pool.
    private let executors: [RedisConnectionExecutor]
    private let redis: RedisClient
    private let backlog = Atomic<Bool>(false)

    init(redis: RedisClient) {
        let shared = redis.connectionExecutors
        executors = redis.isCluster || shared.count < 2 ? [] : shared
        self.redis = redis
    }

    /// Routes the client's calls as for no backlog, where every runner starts: called as the worker starts to run, not
    /// when it is made, so a worker that never runs leaves its client alone.
    func start() {
        backlog.store(false, ordering: .relaxed)
        if !executors.isEmpty { redis.route(.first) }
    }

    /// Routes the client's calls round its pool again (its default), once the worker stopped: a client that outlives
    /// its worker (an in-process enqueuer's) is left as it was before the worker ran.
    func stop() {
        if !executors.isEmpty { redis.route(.roundRobin) }
    }

    /// The executor runner `slot` runs on now: its connection's during a backlog, nil (the global pool) otherwise.
    func executor(slot: Int) -> RedisConnectionExecutor? {
        guard !executors.isEmpty, backlog.load(ordering: .relaxed) else { return nil }
        return executors[slot % executors.count]
    }

    /// Notes what the last fetch found (``FetchDepth/backlog``), and routes the client's other calls to match: round
    /// the pool during a backlog, on the first connection otherwise.
    func record(backlog now: Bool) {
        guard !executors.isEmpty, backlog.exchange(now, ordering: .relaxed) != now else { return }
        redis.route(now ? .roundRobin : .first)
    }
}
