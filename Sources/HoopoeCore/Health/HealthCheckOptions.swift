import Foundation

/// What a health check looks at and its limits. The defaults suit a Kubernetes exec probe.
public struct HealthCheckOptions: Sendable {
    /// Which question the check answers.
    public enum Scope: String, Sendable, Hashable {
        /// "Is this installation doing its job?": Redis, workers, scheduler, queue latency, dead growth. What
        /// alerts a person; never a reason to restart one process.
        case deployment
        /// "Is this process alive?": Redis answers and the process has a fresh heartbeat. What a liveness probe
        /// restarts on; a queue nobody serves or a slow one is not this process's fault.
        case liveness
    }

    /// Which question the check answers (default ``Scope/deployment``).
    public var scope: Scope
    /// For ``Scope/liveness`` without ``workerID``: the host whose processes count (default: this host, which is
    /// the pod or container in Kubernetes and Compose).
    public var host: String
    /// A queue whose oldest ready job waited longer than this fails (default 60 s).
    public var maxLatency: Duration
    /// Require this worker (its consumer id) to be alive, instead of any worker (for ``Scope/liveness``: instead of
    /// any process of ``host``).
    public var workerID: String?
    /// Run the end-to-end canary: enqueue a `diag.record` job and wait for a worker to run it.
    public var canary: Bool
    /// How long the canary may take before it fails (default 10 s).
    public var canaryTimeout: Duration
    /// The schedule file; when it exists and has enabled tasks, a live scheduler is required.
    /// nil skips the scheduler check.
    public var scheduleFile: ScheduleFileCheck?
    /// A heartbeat older than this does not count as alive (default 15 s: three missed 5 s beats).
    public var heartbeatMaxAge: Duration

    /// - Parameters:
    ///   - maxLatency: the oldest ready job's age limit.
    ///   - workerID: a worker that must be alive, or nil for any.
    ///   - canary: whether to run the end-to-end canary.
    ///   - canaryTimeout: the canary's time limit.
    ///   - scheduleFile: the schedule file, or nil.
    ///   - heartbeatMaxAge: how old a heartbeat may be.
    ///   - scope: deployment or liveness.
    ///   - host: the host whose processes a liveness check looks at.
    public init(
        maxLatency: Duration = .seconds(60), workerID: String? = nil, canary: Bool = false, canaryTimeout: Duration = .seconds(10),
        scheduleFile: ScheduleFileCheck? = nil, heartbeatMaxAge: Duration = .seconds(15), scope: Scope = .deployment,
        host: String = ProcessInfo.processInfo.hostName
    ) {
        self.scope = scope
        self.host = host
        self.maxLatency = maxLatency
        self.workerID = workerID
        self.canary = canary
        self.canaryTimeout = canaryTimeout
        self.scheduleFile = scheduleFile
        self.heartbeatMaxAge = heartbeatMaxAge
    }
}
