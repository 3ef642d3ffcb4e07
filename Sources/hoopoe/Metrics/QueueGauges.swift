import HoopoeCore
import Redis
import Prometheus
import Synchronization

/// The per-queue gauges of `/metrics`, read from Redis for the scrapes (``refresh()`` runs before the registry is
/// written out). For the worker's own queues: `hoopoe_queue_depth` (ready), `hoopoe_queue_in_flight`,
/// `hoopoe_queue_scheduled`, `hoopoe_queue_dead`, `hoopoe_queue_latency_seconds`, `hoopoe_queue_paused`; and
/// `hoopoe_jobs_in_flight` (this worker's running jobs). The queue gauges describe the queue, so every worker serving
/// it exports the same values: their help says to aggregate with `max by (queue)` (README, Metrics).
///
/// One read at a time, shared, and waited for only so long. Each scrape ran its own (an `HGETALL` and a six-command
/// pipeline a queue) on the worker's shared connections: thousands of pipelined scrapes loaded Redis and the jobs' own
/// calls; and with Redis down each scrape waited out the client's reconnect window (~5.5 s), so a Prometheus whose
/// `scrape_timeout` is shorter lost the whole scrape and never saw `hoopoe_queue_metrics_up 0`. So a scrape reuses a
/// read started less than ``reuseWithin`` ago, waits for the one under way if there is one (else starts one), and
/// waits at most ``waitAtMost``: then it is served with the last values and `hoopoe_queue_metrics_up` 0, while the
/// read goes on and its values serve the scrapes after it.
///
/// When Redis does not answer (an error, or not within ``waitAtMost``), `hoopoe_queue_metrics_up` is 0 and the queue
/// gauges keep the last values read (a gap would look like an empty queue).
///
/// A queue whose keys Redis refuses to read (``RedisError/refusesQueueRead``: its stream key holding another type,
/// `WRONGTYPE`; an ACL) has `hoopoe_queue_unreadable` 1 and its gauges keep their last values; the other queues are
/// read and `hoopoe_queue_metrics_up` stays 1, as `hoopoe queues` and the health check fail only that queue's row. One
/// such key made every read fail: every queue's gauges froze and `hoopoe_queue_metrics_up` said Redis did not answer.
final class QueueGauges: Sendable {
    private struct Row: Sendable {
        let queue: String
        let ready, inFlight, scheduled, dead, latency, paused, unreadable: Gauge
    }

    private static func descriptor(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    /// Said in each queue gauge's help: every worker serving a queue exports the same values, so a `sum()` over the
    /// workers (what a dashboard adds up by default) counted a queue's depth once a worker.
    static let sameFromEveryWorker = " Every worker serving the queue exports the same value: aggregate with max by (queue), not sum."

    static var ready: MetricNameDescriptor {
        descriptor("hoopoe_queue_depth", "Jobs ready in the queue and not yet taken by a worker, read from Redis for this scrape." + sameFromEveryWorker)
    }
    static var inFlight: MetricNameDescriptor {
        descriptor("hoopoe_queue_in_flight", "Jobs of the queue held by workers (running or fetched), read from Redis for this scrape." + sameFromEveryWorker)
    }
    static var scheduled: MetricNameDescriptor {
        descriptor("hoopoe_queue_scheduled", "Delayed jobs and retries of the queue, read from Redis for this scrape." + sameFromEveryWorker)
    }
    static var dead: MetricNameDescriptor { descriptor("hoopoe_queue_dead", "Jobs in the queue's dead set, read from Redis for this scrape." + sameFromEveryWorker) }
    static var latency: MetricNameDescriptor {
        descriptor(
            "hoopoe_queue_latency_seconds",
            "How long the queue's oldest ready job has waited, in seconds (0 when none waits), read from Redis for this scrape." + sameFromEveryWorker)
    }
    static var paused: MetricNameDescriptor {
        descriptor("hoopoe_queue_paused", "1 while the queue is paused for every worker (hoopoe queue pause), else 0." + sameFromEveryWorker)
    }
    static var unreadable: MetricNameDescriptor {
        descriptor(
            "hoopoe_queue_unreadable",
            "1 when Redis refused to read the queue's keys for this scrape (a key of another type, WRONGTYPE, or an ACL; the worker's log and hoopoe queues name the key), its other gauges keeping their last values; else 0."
                + sameFromEveryWorker)
    }
    static var up: MetricNameDescriptor { descriptor("hoopoe_queue_metrics_up", "1 when the queue gauges were read from Redis for this scrape (at most a second before it; a queue whose keys Redis refused says so in hoopoe_queue_unreadable), 0 when Redis did not answer within 2 s (they keep the last values).") }
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
                latency: registry.makeGauge(descriptor: Self.latency, labels: labels), paused: registry.makeGauge(descriptor: Self.paused, labels: labels),
                unreadable: registry.makeGauge(descriptor: Self.unreadable, labels: labels))
        }
        upGauge = registry.makeGauge(descriptor: Self.up)
        runningGauge = registry.makeGauge(descriptor: Self.running)
    }

    /// A read started less than this long ago serves a scrape as it is: many scrapes at once make one read.
    static let reuseWithin = Duration.seconds(1)
    /// The longest a scrape waits for a read: well inside a Prometheus's `scrape_timeout` (10 s by default, often 3 to
    /// 5 s), where a read while Redis is away lasts the client's reconnect window (about 5.5 s): such a scrape still
    /// arrives, and says Redis did not answer.
    static let waitAtMost = Duration.seconds(2)

    /// Where the reads are: the one under way, the scrapes waiting for it, and when the last one started.
    private struct Reads {
        var underWay = false
        /// Reads finished so far: a waiter waits for the count to pass the one it saw.
        var finished = 0
        /// When the last finished read started: its values are no older than that.
        var lastStarted: ContinuousClock.Instant?
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter = 0
    }

    private let reads = Mutex(Reads())

    /// Brings the gauges up to date for a scrape: reuses a read started within ``reuseWithin``, else waits for the read
    /// under way or starts one, at most ``waitAtMost``; past that, `hoopoe_queue_metrics_up` is 0 for this scrape and
    /// the read goes on without it (its values serve the next scrapes).
    func refresh() async {
        runningGauge.set(to: Double(busy()))
        let now = ContinuousClock.now
        let (start, seen) = reads.withLock { reads -> (Bool?, Int) in
            if reads.underWay { return (false, reads.finished) }
            if let last = reads.lastStarted, now - last < Self.reuseWithin { return (nil, reads.finished) }
            reads.underWay = true
            return (true, reads.finished)
        }
        guard let start else { return }
        // A task of its own: the scrape that started it may stop waiting, or its connection close, before it ends.
        if start {
            Task {
                let answered = await read()
                let waiters = reads.withLock { reads in
                    upGauge.set(to: answered ? 1 : 0)
                    reads.underWay = false
                    reads.finished += 1
                    reads.lastStarted = now
                    defer { reads.waiters = [:] }
                    return reads.waiters.values
                }
                for waiter in waiters { waiter.resume() }
            }
        }
        guard await !waitForRead(after: seen, within: Self.waitAtMost) else { return }
        // Unless it finished just now: then the gauge says how it went.
        reads.withLock { reads in if reads.finished == seen { upGauge.set(to: 0) } }
    }

    /// Waits until more than `seen` reads have finished, at most `limit`; false when the time ran out first.
    private func waitForRead(after seen: Int, within limit: Duration) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                let id = self.reads.withLock { reads in
                    defer { reads.nextWaiter += 1 }
                    return reads.nextWaiter
                }
                await withTaskCancellationHandler {
                    await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
                        // Cancelled already (the time ran out before it got here): the handler below found nothing to
                        // resume, so it must not wait.
                        let now = self.reads.withLock { reads in
                            if reads.finished > seen || Task.isCancelled { return true }
                            reads.waiters[id] = waiter
                            return false
                        }
                        if now { waiter.resume() }
                    }
                } onCancel: {
                    self.reads.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
                }
                return true
            }
            group.addTask {
                try? await Task.sleep(for: limit)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }

    /// Reads every queue's numbers and the paused queues (one pipeline per queue, one `HGETALL`) and sets the gauges;
    /// false when Redis did not answer (the gauges are left as they were). A queue whose keys Redis refused
    /// (``RedisError/refusesQueueRead``) is marked unreadable, its numbers left as they were: that refusal is the
    /// read's own answer, no other command is sent to find it.
    private func read() async -> Bool {
        do {
            let paused = try await jobs.pausedQueues()
            var infos: [QueueInfo?] = []
            for row in rows {
                do {
                    infos.append(try await jobs.info(queue: row.queue))
                } catch let error as RedisError where error.refusesQueueRead {
                    infos.append(nil)
                }
            }
            for (row, info) in zip(rows, infos) {
                row.unreadable.set(to: info == nil ? 1 : 0)
                row.paused.set(to: paused[row.queue] == nil ? 0 : 1)
                guard let info else { continue }
                row.ready.set(to: Double(info.ready))
                row.inFlight.set(to: Double(info.inFlight))
                row.scheduled.set(to: Double(info.scheduled))
                row.dead.set(to: Double(info.dead))
                row.latency.set(to: info.latency)
            }
            return true
        } catch {
            return false
        }
    }
}
