/// Hooks a worker calls as jobs settle, for metrics. The default does nothing; the CLI wires
/// swift-metrics counters and histograms here.
public struct WorkerMetrics: Sendable {
    /// A job finished: its type, its outcome (`processed`, `retried`, `dead`, `discarded`, `deferred`, `handed_back`, or
    /// `early`: it arrived before its `run_at` and was moved to the scheduled set)
    /// and how long the attempt ran, in seconds: nil when no handler ran (`early`, or buried before it could run: an
    /// unknown type, an invalid envelope, a poison pill), which a duration histogram must not count as a 0 s run.
    /// The type is one this worker runs, or `(unknown)` / `(malformed)`: a label per type that arrives would grow the
    /// metrics without bound (one series set for each typo'd type, kept until a restart).
    public var jobSettled: @Sendable (_ type: String, _ outcome: String, _ seconds: Double?) -> Void

    /// - Parameter jobSettled: called once per attempt.
    public init(jobSettled: @escaping @Sendable (_ type: String, _ outcome: String, _ seconds: Double?) -> Void = { _, _, _ in }) {
        self.jobSettled = jobSettled
    }
}
