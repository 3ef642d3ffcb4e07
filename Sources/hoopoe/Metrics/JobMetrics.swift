import CoreMetrics
import Foundation
import HoopoeCore
import Synchronization

/// The worker's metrics through swift-metrics:
/// - `hoopoe_jobs_total{type, outcome}`: settled attempts, outcome = processed | retried | dead | discarded | handed_back;
/// - `hoopoe_job_duration_seconds{type}`: how long attempts ran (histogram);
/// - `hoopoe_jobs_in_flight`: jobs running now;
/// - `hoopoe_queue_depth{queue}`, `hoopoe_queue_latency_seconds{queue}`, `hoopoe_queue_scheduled{queue}`,
///   `hoopoe_queue_dead{queue}`: sampled every few seconds.
/// Metric objects are made once per label set and cached: making one takes the factory's lock.
final class JobMetrics: Sendable {
    private let counters = Mutex([String: CoreMetrics.Counter]())
    private let timers = Mutex([String: CoreMetrics.Timer]())

    /// The hook for ``WorkerMetrics``.
    var workerMetrics: WorkerMetrics {
        WorkerMetrics { [self] type, outcome, seconds in
            counter(type: type, outcome: outcome).increment()
            if outcome != "handed_back" { timer(type: type).recordNanoseconds(Int64(seconds * 1e9)) }
        }
    }

    private func counter(type: String, outcome: String) -> CoreMetrics.Counter {
        let key = type + "\u{0}" + outcome
        return counters.withLock { cache in
            if let counter = cache[key] { return counter }
            let counter = CoreMetrics.Counter(label: "hoopoe_jobs_total", dimensions: [("type", type), ("outcome", outcome)])
            cache[key] = counter
            return counter
        }
    }

    private func timer(type: String) -> CoreMetrics.Timer {
        timers.withLock { cache in
            if let timer = cache[type] { return timer }
            let timer = CoreMetrics.Timer(label: "hoopoe_job_duration_seconds", dimensions: [("type", type)], preferredDisplayUnit: .seconds)
            cache[type] = timer
            return timer
        }
    }

    /// Samples queue gauges and jobs in flight every `interval` until cancelled.
    func sampleQueues(jobs: JobQueue, queues: [String], busy: @escaping @Sendable () -> Int, interval: Duration = .seconds(5)) async {
        let inFlight = Gauge(label: "hoopoe_jobs_in_flight")
        let gauges = queues.map { queue in
            (
                queue, Gauge(label: "hoopoe_queue_depth", dimensions: [("queue", queue)]),
                Gauge(label: "hoopoe_queue_latency_seconds", dimensions: [("queue", queue)]),
                Gauge(label: "hoopoe_queue_scheduled", dimensions: [("queue", queue)]),
                Gauge(label: "hoopoe_queue_dead", dimensions: [("queue", queue)])
            )
        }
        while !Task.isCancelled {
            inFlight.record(busy())
            for (queue, depth, latency, scheduled, dead) in gauges {
                if let info = try? await jobs.info(queue: queue) {
                    depth.record(info.ready)
                    latency.record(info.latency)
                    scheduled.record(info.scheduled)
                    dead.record(info.dead)
                }
            }
            try? await Task.sleep(for: interval)
        }
    }
}
