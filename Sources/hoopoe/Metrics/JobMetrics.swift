import HoopoeCore
import Prometheus
import Synchronization

/// The worker's job metrics, in the process's Prometheus registry (``PrometheusEndpoint/registry``), each with its
/// `# HELP` text:
/// - `hoopoe_jobs_total{type, outcome}`: settled attempts (outcomes as ``WorkerMetrics`` names them). `handed_back`
///   counts only the jobs a runner held when shutdown ran out of time (`Worker+Execute`'s interrupted outcomes); the
///   prefetched jobs a pause or a shutdown hands back unrun (`HandBack`, from the worker's buffer) never reach a
///   runner and are not counted. The help text and README's Metrics say so: they were silent, and `handed_back` read
///   as every job handed back (a review);
/// - `hoopoe_job_duration_seconds{type}`: how long attempts ran (histogram), attempts whose handler ran only.
/// `type` is a type this worker runs, or `(unknown)` / `(malformed)` (``WorkerMetrics/jobSettled``).
/// The queue gauges are ``QueueGauges``. Metric objects are made once per label set and cached: making one takes the
/// registry's lock.
final class JobMetrics: Sendable {
    static var jobs: MetricNameDescriptor {
        MetricNameDescriptor(
            metricName: "hoopoe_jobs_total", unitName: "",
            helpText: "Job attempts settled by this worker, by job type and outcome (processed, retried, dead, discarded, deferred, handed_back, early). "
                + "handed_back: jobs its runners held when shutdown ran out of time (running, or about to start), back on their queue; "
                + "jobs prefetched and handed back unrun (at a pause or a shutdown) are not attempts and are not counted.")
    }
    static var duration: MetricNameDescriptor {
        MetricNameDescriptor(metricName: "hoopoe_job_duration_seconds", unitName: "", helpText: "How long job attempts ran in this worker, by job type, in seconds.")
    }
    /// The histogram's buckets: from a millisecond (a Redis-only job) to five minutes (a slow provider).
    static let buckets: [Duration] = [
        .milliseconds(1), .milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .seconds(2.5), .seconds(5), .seconds(10), .seconds(30), .seconds(60), .seconds(300),
    ]

    private let registry: PrometheusCollectorRegistry
    private let counters = Mutex([String: Counter]())
    private let timers = Mutex([String: DurationHistogram]())

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
    }

    /// The hook for ``WorkerMetrics``.
    var workerMetrics: WorkerMetrics {
        WorkerMetrics { [self] type, outcome, seconds in
            counter(type: type, outcome: outcome).increment()
            // Only attempts that ran: a job handed back at shutdown, early, or buried before its handler ran is not a run.
            if let seconds, outcome != "handed_back" { timer(type: type).recordNanoseconds(Int64(seconds * 1e9)) }
        }
    }

    private func counter(type: String, outcome: String) -> Counter {
        let key = type + "\u{0}" + outcome
        return counters.withLock { cache in
            if let counter = cache[key] { return counter }
            let counter = registry.makeCounter(descriptor: Self.jobs, labels: [("type", type), ("outcome", outcome)])
            cache[key] = counter
            return counter
        }
    }

    private func timer(type: String) -> DurationHistogram {
        timers.withLock { cache in
            if let timer = cache[type] { return timer }
            let timer = registry.makeDurationHistogram(descriptor: Self.duration, labels: [("type", type)], buckets: Self.buckets)
            cache[type] = timer
            return timer
        }
    }
}
