import Foundation
import HoopoeCore
import HoopoeJSON
import Logging
import Redis
import Synchronization

/// The engine's own numbers for `make bench`: batch-enqueue rate, enqueue→start latency at a fixed
/// rate, and the promotion rate of a large delayed backlog. Each run uses a fresh namespace.
enum EngineBenchmark {
    /// Jobs enqueued per second through `enqueueBatch` (batches of 1000, one round trip each).
    static func batchEnqueue(url: String, jobs count: Int) async throws -> Double {
        let (redis, jobs) = try setUp(url)
        defer { redis.close() }
        let payload = JSONValue.object(["key": .string("bench:batch")])
        let seconds = try await time {
            for start in stride(from: 0, to: count, by: 1000) {
                _ = try await jobs.enqueueBatch((start..<min(count, start + 1000)).map { _ in (type: "diag.incr", payload: payload, options: EnqueueOptions()) })
            }
        }
        try await cleanUp(jobs)
        return Double(count) / seconds
    }

    /// Enqueues `count` `diag.incr` jobs round-robin over `queues` in the default namespace (batches of 1000),
    /// each adding one to `counter` when it runs; returns the seconds it took. Nothing is cleaned up: the
    /// topology benchmark (scripts/bench-topologies.py) has a `hoopoe worker` drain them.
    static func fill(url: String, jobs count: Int, queues: [String], counter: String) async throws -> Double {
        let redis = try RedisClient(url: url)
        defer { redis.close() }
        let jobs = JobQueue(redis: redis, namespace: "hoopoe")
        let payload = JSONValue.object(["key": .string(counter)])
        return try await time {
            for start in stride(from: 0, to: count, by: 1000) {
                _ = try await jobs.enqueueBatch((start..<min(count, start + 1000)).map { index in
                    (type: "diag.incr", payload: payload, options: EnqueueOptions(queue: queues[index % queues.count]))
                })
            }
        }
    }

    /// Enqueue→start latency percentiles (ms) with one worker (concurrency 20), jobs enqueued one by one at `rate`
    /// per second for `seconds`. The worker runs in this process, or with `separateProcess` in a child
    /// `hoopoe-bench latency-worker` (so the enqueuer's tasks do not share the worker's thread pool, as producers are
    /// other services in production).
    ///
    /// Open-loop pacing: job *i* is due at `start + i / rate`, whatever happened to the jobs before it. The pacer
    /// sleeps until the next job is due, then starts an enqueue task for every job whose time has come (so a slow
    /// enqueue delays no other send), and each job's latency counts from its *scheduled* send time, not from when
    /// its enqueue actually left: an enqueuer that falls behind adds its lag to the latency instead of hiding it.
    /// `maxSendLag` is the longest a send started after its scheduled time. `p99AfterEnqueue` counts from the
    /// envelope's `enqueued_at` instead (the enqueuing client's clock, set as it builds the envelope): the p99 without
    /// the pacer's own lag, for reading where the time goes (docs/benchmarks.md, session 15).
    static func latency(url: String, rate: Int, seconds: Int, separateProcess: Bool = false) async throws -> (
        p50: Double, p99: Double, max: Double, count: Int, maxSendLag: Double, p99AfterEnqueue: Double
    ) {
        // A worker's client (`hoopoe worker`'s pool: its runners run on the shared connections' threads), shared with
        // the pacer.
        let (redis, jobs) = try setUp(url, poolSize: Worker.sharedConnections)
        defer { redis.close() }
        let total = rate * seconds
        let clock = ContinuousClock()
        let started = clock.now
        let maxLag: Duration
        let result: LatencyResult
        if separateProcess {
            let child = Process()
            child.executableURL = URL(fileURLWithPath: "/proc/self/exe")  // this hoopoe-bench
            child.arguments = ["latency-worker", jobs.store.namespace, String(total), String(seconds + 10)]
            let output = Pipe()
            child.standardOutput = output
            try child.run()
            let ready = "\(jobs.store.namespace):bench:ready"
            while try await redis.send("EXISTS", ready).int != 1 {
                guard child.isRunning, clock.now - started < .seconds(30) else { throw BenchError("latency-worker did not start") }
                try await Task.sleep(for: .milliseconds(20))
            }
            maxLag = try await pace(jobs, rate: rate, total: total)
            while child.isRunning { try await Task.sleep(for: .milliseconds(20)) }
            let line = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            guard child.terminationStatus == 0, let decoded = LatencyResult(json: line) else {
                throw BenchError("latency-worker exited \(child.terminationStatus): \(line.suffix(300))")
            }
            result = decoded
        } else {
            let samples = LatencySamples()
            let worker = latencyWorker(jobs, samples)
            let running = Task { try await worker.run() }
            try await Task.sleep(for: .milliseconds(300))
            maxLag = try await pace(jobs, rate: rate, total: total)
            while samples.count < total, clock.now - started < .seconds(seconds + 10) { try await Task.sleep(for: .milliseconds(20)) }
            worker.shutdown()
            try await running.value
            result = LatencyResult(samples)
        }
        try await cleanUp(jobs)
        let lag = Double(maxLag.components.seconds) * 1000 + Double(maxLag.components.attoseconds) / 1e15
        return (result.p50, result.p99, result.max, result.count, lag, result.p99AfterEnqueue)
    }

    /// `hoopoe-bench latency-worker`: the worker side of ``latency(url:rate:seconds:separateProcess:)`` in a process
    /// of its own. Marks `<namespace>:bench:ready` once running, stops after `count` jobs or `timeout` seconds, and
    /// prints the percentiles as one JSON line.
    static func latencyWorkerProcess(url: String, namespace: String, count: Int, timeout: Int) async throws -> String {
        let redis = try client(url, poolSize: Worker.sharedConnections)  // as `hoopoe worker`'s
        defer { redis.close() }
        let jobs = JobQueue(redis: redis, namespace: namespace)
        let samples = LatencySamples()
        let worker = latencyWorker(jobs, samples)
        let running = Task { try await worker.run() }
        try await Task.sleep(for: .milliseconds(300))
        try await redis.send("SET", "\(namespace):bench:ready", "1", "EX", "600")
        let clock = ContinuousClock()
        let start = clock.now
        while samples.count < count, clock.now - start < .seconds(timeout) { try await Task.sleep(for: .milliseconds(20)) }
        worker.shutdown()
        try await running.value
        try await redis.send("DEL", "\(namespace):bench:ready")
        return LatencyResult(samples).json
    }

    private static func latencyWorker(_ jobs: JobQueue, _ samples: LatencySamples) -> Worker {
        var registry = JobRegistry()
        registry.register(LatencyProbe(samples: samples))
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        return Worker(jobs: jobs, registry: registry, options: WorkerOptions(concurrency: 20), logger: logger)
    }

    /// Enqueues `total` probe jobs at `rate` a second, open loop (see ``latency(url:rate:seconds:separateProcess:)``);
    /// returns the longest a send started after its scheduled time.
    private static func pace(_ jobs: JobQueue, rate: Int, total: Int) async throws -> Duration {
        let clock = ContinuousClock()
        let start = clock.now + .milliseconds(20)
        let wallStart = Date().timeIntervalSince1970 + 0.020  // the same instant on the wall clock the probe reads
        var maxLag = Duration.zero
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = 0
            while next < total {
                try await Task.sleep(until: start + .microseconds(next * 1_000_000 / rate))
                let now = clock.now
                maxLag = max(maxLag, now - (start + .microseconds(next * 1_000_000 / rate)))
                let elapsed = now - start
                let due = min(total, Int((Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18) * Double(rate)) + 1)
                while next < due {
                    let scheduled = wallStart + Double(next) / Double(rate)
                    group.addTask { try await jobs.enqueue(type: LatencyProbe.type, payload: .object(["sent": .double(scheduled)])) }
                    next += 1
                }
            }
            try await group.waitForAll()
        }
        return maxLag
    }

    /// Delayed jobs moved to their stream per second, by one worker's promotion step, from a backlog of
    /// `count` that all come due at once.
    static func promotion(url: String, jobs count: Int) async throws -> Double {
        let (redis, jobs) = try setUp(url)
        defer { redis.close() }
        let later = Date().addingTimeInterval(3600)
        let payload = JSONValue.object(["key": .string("bench:promote")])
        for start in stride(from: 0, to: count, by: 5000) {
            _ = try await jobs.enqueueBatch((start..<min(count, start + 5000)).map { _ in (type: "diag.incr", payload: payload, options: EnqueueOptions(runAt: later)) })
        }
        try await jobs.store.makeScheduledDue(queue: "default")
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        let worker = Worker(jobs: jobs, registry: JobRegistry(), options: WorkerOptions(), logger: logger)
        let seconds = try await time {
            while try await jobs.store.scheduledCount(queue: "default") > 0 { try await worker.promote() }
        }
        let moved = try await jobs.store.streamLength(queue: "default")
        try await cleanUp(jobs)
        guard moved == count else { throw BenchError("promoted \(moved) of \(count)") }
        return Double(count) / seconds
    }

    /// A client with `poolSize` shared connections (a worker's: ``Worker/sharedConnections``).
    private static func client(_ url: String, poolSize: Int) throws -> RedisClient {
        var configuration = try RedisConfiguration(url: url)
        configuration.poolSize = poolSize
        return RedisClient(configuration: configuration)
    }

    private static func setUp(_ url: String, poolSize: Int = 1) throws -> (RedisClient, JobQueue) {
        let redis = try client(url, poolSize: poolSize)
        return (redis, JobQueue(redis: redis, namespace: "bench-\(JobID.make().suffix(8))"))
    }

    private static func cleanUp(_ jobs: JobQueue) async throws {
        try await jobs.store.purge(queue: "default")
    }

    private static func time(_ body: () async throws -> Void) async throws -> Double {
        let clock = ContinuousClock()
        let start = clock.now
        try await body()
        let elapsed = clock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}

/// Records how long after its enqueue a job started: from its scheduled send time, and from its envelope's
/// `enqueued_at`.
private struct LatencyProbe: JobHandler {
    struct Payload: Decodable, Sendable { let sent: Double }
    static let type = "bench.latency"
    let samples: LatencySamples
    func run(_ payload: Payload, context: JobContext) async throws {
        let now = Date().timeIntervalSince1970
        samples.add(fromSchedule: (now - payload.sent) * 1000, fromEnqueue: (now - context.enqueuedAt) * 1000)
    }
}

/// The percentiles of a latency run, and their JSON line between a latency-worker process and its parent.
private struct LatencyResult {
    let p50: Double, p99: Double, max: Double, count: Int, p99AfterEnqueue: Double

    init(_ samples: LatencySamples) {
        let (fromSchedule, fromEnqueue) = samples.values
        let sorted = fromSchedule.sorted()
        (p50, p99, max, count) = (Self.percentile(sorted, 0.50), Self.percentile(sorted, 0.99), sorted.last ?? .nan, sorted.count)
        p99AfterEnqueue = Self.percentile(fromEnqueue.sorted(), 0.99)
    }

    private static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        sorted.isEmpty ? .nan : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
    }

    init?(json: String) {
        guard let data = json.split(whereSeparator: \.isNewline).last.map({ Data($0.utf8) }),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let p50 = object["p50_ms"] as? Double, let p99 = object["p99_ms"] as? Double,
              let max = object["max_ms"] as? Double, let count = object["jobs"] as? Int,
              let p99AfterEnqueue = object["p99_after_enqueue_ms"] as? Double else { return nil }
        (self.p50, self.p99, self.max, self.count, self.p99AfterEnqueue) = (p50, p99, max, count, p99AfterEnqueue)
    }

    /// NaN (no samples) is written as -1: JSON has no NaN.
    var json: String {
        func number(_ value: Double) -> Double { value.isNaN ? -1 : value }
        return "{\"p50_ms\": \(number(p50)), \"p99_ms\": \(number(p99)), \"max_ms\": \(number(max)), \"jobs\": \(count), "
            + "\"p99_after_enqueue_ms\": \(number(p99AfterEnqueue))}"
    }
}

/// Each job's latency twice: from its scheduled send time, and from its envelope's `enqueued_at`.
private final class LatencySamples: Sendable {
    private let state = Mutex(([Double](), [Double]()))
    func add(fromSchedule: Double, fromEnqueue: Double) {
        state.withLock {
            $0.0.append(fromSchedule)
            $0.1.append(fromEnqueue)
        }
    }
    var count: Int { state.withLock { $0.0.count } }
    var values: (fromSchedule: [Double], fromEnqueue: [Double]) { state.withLock { $0 } }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
