import Foundation

/// How a worker runs. Every default is what a production worker should use.
public struct WorkerOptions: Sendable {
    /// The queues and how to choose between them.
    public var queues: QueueSelection
    /// Jobs running at once (default 20).
    public var concurrency: Int
    /// How many jobs a worker holds fetched but not yet running (default 2 × concurrency). A fetch refills the
    /// buffer once it is half empty, so a free slot seldom waits for a round trip and each fetch is a large batch.
    public var prefetch: Int
    /// The most it holds so while its runners empty the buffer faster than fetches refill it, on a queue with more
    /// waiting (default 2 × prefetch when `prefetch` is defaulted, else `prefetch`; never below `prefetch`). Short jobs
    /// then share each round trip instead of waiting for the fetch. Slow jobs never empty the buffer, so a worker
    /// running them keeps to `prefetch` and holds no more back from other workers. Back to `prefetch` as soon as a
    /// fetch finds the queue short (decision 0069). Recovery claims a dead worker's jobs into the same room: below
    /// this while the fetch is deep, below `prefetch` otherwise (decision 0071). Setting `prefetch` after init leaves
    /// this as it was: set both for a fixed depth.
    public var maxPrefetch: Int
    /// How long a fetched job belongs to this worker without a sign of life (default 10 s). A worker renews its
    /// jobs' leases every fifth of it on a thread of its own, so a live one keeps them through 8 s without a renewal;
    /// when it dies, others take its jobs after the lease plus at most one recovery round: within 12.4 s by default,
    /// a bound the tests hold to 15 s (decision 0032).
    public var lease: Duration
    /// How often expired leases are looked for (default 2 s, ± 20 %).
    public var recoveryInterval: Duration
    /// How often due delayed jobs and retries are moved to their queue (default 0.5 s, with jitter).
    public var promoteInterval: Duration
    /// How long one blocking fetch waits for a job before checking for shutdown (default 1 s).
    public var fetchBlock: Duration
    /// How long running jobs may finish after a shutdown request before they are handed back (25 s).
    public var shutdownTimeout: Duration
    /// The dead set keeps at most this many jobs per queue (default 10 000)...
    public var deadMaxJobs: Int
    /// ...and none older than this (default 180 days).
    public var deadMaxAge: Duration
    /// This worker's name as a consumer of the streams, unique per `Worker` (the default is): two workers under one
    /// name would each take the other's deliveries for its own, after a lost fetch reply too (decision 0099).
    public var consumer: String
    /// Entries the `<ns>:events` stream keeps (approximately) when the worker adds `job.dead` to it; the same
    /// setting as the domain jobs' events (`HOOPOE_EVENTS_MAXLEN`, default 100,000).
    public var eventsMaxLength = 100_000
    /// Finished jobs each queue's history keeps (``HistoryRecord``; `HOOPOE_HISTORY_MAX_JOBS`, default 10,000; 0
    /// turns history off)...
    public var historyMaxJobs = 10_000
    /// ...and none older than this (`HOOPOE_HISTORY_MAX_AGE`, default 24 h).
    public var historyMaxAge: Duration = .seconds(86_400)
    /// How often the worker trims its queues' dead sets and histories to their caps (default 60 s, ± 20 %), besides
    /// the trims burials and settles make: a queue whose jobs stopped dying or running is trimmed too
    /// (``RetentionUpkeep``, decision 0088).
    public var retentionUpkeepInterval: Duration = .seconds(60)
    /// How often the worker reads which queues are paused (default 0.5 s, ± 20 %): a pause or resume reaches it
    /// within about that (decision 0029). Each read is one `HGETALL` of one small hash. The cancel requests for jobs
    /// this worker holds are read as often (decision 0089: one `HGETALL` a queue, in one pipeline), so a canceller
    /// waits about that for its answer.
    public var pauseCheckInterval: Duration = .milliseconds(500)
    /// How long an acknowledgement that could not be sent (Redis unreachable past the client's reconnect window: nothing
    /// was written) is tried again, its jobs' leases still held and renewed, before they are left to run again after
    /// their lease (default 30 s). An outage of Redis longer than the reconnect window (3 s) ran finished jobs again,
    /// and buried as lost a job on its last attempt that had succeeded.
    public var unsentAcknowledgementRetry: Duration = .seconds(30)
    /// How long an earlier worker's consumer, holding no delivery, must have been idle before this worker deletes it
    /// at start (``JobStore/pruneIdleConsumers(queue:idle:)``; default 10 minutes).
    public var consumerIdleLimit: Duration = .seconds(600)

    /// - Parameters:
    ///   - queues: the queues and how to choose between them.
    ///   - concurrency: jobs running at once.
    ///   - prefetch: see ``prefetch``; given alone, it is also ``maxPrefetch`` (a fixed depth).
    ///   - maxPrefetch: see ``maxPrefetch``.
    public init(
        queues: QueueSelection = QueueSelection(["default"]), concurrency: Int = 20, prefetch: Int? = nil, maxPrefetch: Int? = nil,
        lease: Duration = .seconds(10), recoveryInterval: Duration = .seconds(2), promoteInterval: Duration = .milliseconds(500),
        fetchBlock: Duration = .seconds(1), shutdownTimeout: Duration = .seconds(25), deadMaxJobs: Int = 10_000,
        deadMaxAge: Duration = .seconds(180 * 86_400), consumer: String? = nil
    ) {
        self.queues = queues
        self.concurrency = max(1, concurrency)
        self.prefetch = max(1, prefetch ?? 2 * self.concurrency)
        self.maxPrefetch = max(self.prefetch, maxPrefetch ?? (prefetch == nil ? 2 * self.prefetch : self.prefetch))
        self.lease = lease
        self.recoveryInterval = recoveryInterval
        self.promoteInterval = promoteInterval
        self.fetchBlock = fetchBlock
        self.shutdownTimeout = shutdownTimeout
        self.deadMaxJobs = deadMaxJobs
        self.deadMaxAge = deadMaxAge
        self.consumer = consumer ?? Self.defaultConsumer()
    }

    /// The dead set's caps as the store takes them.
    var deadSetLimits: JobStore.DeadSetLimits {
        .init(maxJobs: deadMaxJobs, maxAge: deadMaxAge, eventsMaxLength: eventsMaxLength)
    }

    /// `host:pid:random`: readable in `XINFO CONSUMERS`, unique across restarts.
    public static func defaultConsumer() -> String {
        "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier):\(JobID.make().suffix(6))"
    }
}
