import HoopoeCore
import Prometheus

/// The per-queue gauges of `/metrics`, read from Redis at each scrape (``refresh()`` runs before the registry is
/// written out), so a value is never older than the scrape that shows it. For the worker's own queues:
/// `hoopoe_queue_depth` (ready), `hoopoe_queue_in_flight`, `hoopoe_queue_scheduled`, `hoopoe_queue_dead`,
/// `hoopoe_queue_latency_seconds`, `hoopoe_queue_paused`; and `hoopoe_jobs_in_flight` (this worker's running jobs).
///
/// When Redis does not answer a scrape's reads, `hoopoe_queue_metrics_up` is 0 and the queue gauges keep the last
/// values read (a gap would look like an empty queue).
final class QueueGauges: Sendable {
    private struct Row: Sendable {
        let queue: String
        let ready, inFlight, scheduled, dead, latency, paused: Gauge
    }

    private static func descriptor(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    static var ready: MetricNameDescriptor { descriptor("hoopoe_queue_depth", "Jobs ready in the queue and not yet taken by a worker, read from Redis at this scrape.") }
    static var inFlight: MetricNameDescriptor { descriptor("hoopoe_queue_in_flight", "Jobs of the queue held by workers (running or fetched), read from Redis at this scrape.") }
    static var scheduled: MetricNameDescriptor { descriptor("hoopoe_queue_scheduled", "Delayed jobs and retries of the queue, read from Redis at this scrape.") }
    static var dead: MetricNameDescriptor { descriptor("hoopoe_queue_dead", "Jobs in the queue's dead set, read from Redis at this scrape.") }
    static var latency: MetricNameDescriptor {
        descriptor("hoopoe_queue_latency_seconds", "How long the queue's oldest ready job has waited, in seconds (0 when none waits), read at this scrape.")
    }
    static var paused: MetricNameDescriptor { descriptor("hoopoe_queue_paused", "1 while the queue is paused for every worker (hoopoe queue pause), else 0.") }
    static var up: MetricNameDescriptor { descriptor("hoopoe_queue_metrics_up", "1 when this scrape read the queue gauges from Redis, 0 when Redis did not answer (they keep the last values).") }
    static var running: MetricNameDescriptor { descriptor("hoopoe_jobs_in_flight", "Jobs this worker is running now.") }

    private let jobs: JobQueue
    private let rows: [Row]
    private let upGauge: Gauge
    private let runningGauge: Gauge
    private let busy: @Sendable () -> Int

    /// - Parameters:
    ///   - registry: where the gauges are registered.
    ///   - jobs: the engine the numbers are read from.
    ///   - queues: the queues to report (the worker's own).
    ///   - busy: this worker's running jobs.
    init(registry: PrometheusCollectorRegistry, jobs: JobQueue, queues: [String], busy: @escaping @Sendable () -> Int) {
        self.jobs = jobs
        self.busy = busy
        rows = queues.map { queue in
            let labels = [("queue", queue)]
            return Row(
                queue: queue, ready: registry.makeGauge(descriptor: Self.ready, labels: labels),
                inFlight: registry.makeGauge(descriptor: Self.inFlight, labels: labels),
                scheduled: registry.makeGauge(descriptor: Self.scheduled, labels: labels), dead: registry.makeGauge(descriptor: Self.dead, labels: labels),
                latency: registry.makeGauge(descriptor: Self.latency, labels: labels), paused: registry.makeGauge(descriptor: Self.paused, labels: labels))
        }
        upGauge = registry.makeGauge(descriptor: Self.up)
        runningGauge = registry.makeGauge(descriptor: Self.running)
    }

    /// Reads every queue's numbers and the paused queues (one pipeline per queue, one `HGETALL`) and sets the gauges.
    func refresh() async {
        runningGauge.set(to: Double(busy()))
        do {
            let paused = try await jobs.pausedQueues()
            var infos: [QueueInfo] = []
            for row in rows { infos.append(try await jobs.info(queue: row.queue)) }
            for (row, info) in zip(rows, infos) {
                row.ready.set(to: Double(info.ready))
                row.inFlight.set(to: Double(info.inFlight))
                row.scheduled.set(to: Double(info.scheduled))
                row.dead.set(to: Double(info.dead))
                row.latency.set(to: info.latency)
                row.paused.set(to: paused[row.queue] == nil ? 0 : 1)
            }
            upGauge.set(to: 1)
        } catch {
            upGauge.set(to: 0)
        }
    }
}
