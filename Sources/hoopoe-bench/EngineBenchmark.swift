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

    /// Enqueue→start latency percentiles (ms) with one in-process worker (concurrency 20), jobs enqueued one by
    /// one at `rate` per second for `seconds`.
    ///
    /// Open-loop pacing: job *i* is due at `start + i / rate`, whatever happened to the jobs before it. The pacer
    /// sleeps until the next job is due, then starts an enqueue task for every job whose time has come (so a slow
    /// enqueue delays no other send), and each job's latency counts from its *scheduled* send time, not from when
    /// its enqueue actually left: an enqueuer that falls behind adds its lag to the latency instead of hiding it.
    /// `maxSendLag` is the longest a send started after its scheduled time.
    static func latency(url: String, rate: Int, seconds: Int) async throws -> (p50: Double, p99: Double, max: Double, count: Int, maxSendLag: Double) {
        let (redis, jobs) = try setUp(url)
        defer { redis.close() }
        let samples = LatencySamples()
        var registry = JobRegistry()
        registry.register(LatencyProbe(samples: samples))
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        let worker = Worker(jobs: jobs, registry: registry, options: WorkerOptions(concurrency: 20), logger: logger)
        let running = Task { try await worker.run() }
        try await Task.sleep(for: .milliseconds(300))
        let total = rate * seconds
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
        while samples.count < total, clock.now - start < .seconds(seconds + 10) { try await Task.sleep(for: .milliseconds(20)) }
        worker.shutdown()
        try await running.value
        try await cleanUp(jobs)
        let sorted = samples.values.sorted()
        func percentile(_ p: Double) -> Double { sorted.isEmpty ? .nan : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
        let lag = Double(maxLag.components.seconds) * 1000 + Double(maxLag.components.attoseconds) / 1e15
        return (percentile(0.50), percentile(0.99), sorted.last ?? .nan, sorted.count, lag)
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

    private static func setUp(_ url: String) throws -> (RedisClient, JobQueue) {
        let redis = try RedisClient(url: url)
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

/// Records how long after its enqueue a job started.
private struct LatencyProbe: JobHandler {
    struct Payload: Decodable, Sendable { let sent: Double }
    static let type = "bench.latency"
    let samples: LatencySamples
    func run(_ payload: Payload, context: JobContext) async throws {
        samples.add((Date().timeIntervalSince1970 - payload.sent) * 1000)
    }
}

private final class LatencySamples: Sendable {
    private let state = Mutex([Double]())
    func add(_ value: Double) { state.withLock { $0.append(value) } }
    var count: Int { state.withLock { $0.count } }
    var values: [Double] { state.withLock { $0 } }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
