/// Hooks a worker calls as jobs settle, for metrics. The default does nothing; the CLI wires
/// swift-metrics counters and histograms here.
public struct WorkerMetrics: Sendable {
    /// A job finished: its type, its outcome (`processed`, `retried`, `dead`, `discarded`, `deferred`, `handed_back`, or
    /// `early`: it arrived before its `run_at` and was moved to the scheduled set)
    /// and how long the attempt ran, in seconds.
    public var jobSettled: @Sendable (_ type: String, _ outcome: String, _ seconds: Double) -> Void

    /// - Parameter jobSettled: called once per attempt.
    public init(jobSettled: @escaping @Sendable (_ type: String, _ outcome: String, _ seconds: Double) -> Void = { _, _, _ in }) {
        self.jobSettled = jobSettled
    }
}
