import Foundation
import HoopoeCore
import HoopoeJSON
import Logging
import Redis

/// What jobs cost in Redis's memory, per place a job can be held: ready (the queue's stream), scheduled (a delayed
/// job: sorted set + envelope hash), dead (sorted set + envelope hash, with `dead_reason`) and history (a finished
/// job's record: list of ids + record hash). Issue 17 asks for these per 100k jobs, so an operator can size Redis.
///
/// Each measurement fills a fresh namespace through the engine's own paths (``JobQueue/enqueueBatch(_:)``, and an
/// in-process ``Worker`` whose probe handler succeeds, for history, or fails for good, for the dead set), then reads
/// `INFO memory`'s `used_memory` before and after and `MEMORY USAGE key SAMPLES 0` (every element counted) of the
/// keys that hold the jobs. The delta also counts what the path writes besides (a dead job's `job.dead` event, the
/// day's counters); the keys' size is the job's own.
enum MemoryBenchmark {
    /// The two envelopes measured: the peers' no-op job, and a typical domain job.
    struct Workload: Sendable {
        let label: String
        let type: String
        let payload: JSONValue

        /// The peer benchmark's job (bench/enqueue_bench.py): `diag.incr` of one key.
        static let peers = Workload(label: "peers' diag.incr", type: DiagIncrJob.Payload.jobType, payload: .object(["key": .string("bench:done")]))
        /// A reminder SMS as the expiration reminders enqueue it (jobs/samples/sms.send.json).
        static let reminderSMS = Workload(label: "reminder sms.send", type: "sms.send", payload: .object([
            "message_id": .string("reminder.expiration:42:1735689600:3"), "phone": .string("09121234567"),
            "template": .string("expiration_reminder"),
            "tokens": .object(["token10": .string("Sara"), "token": .string("3"), "token2": .string("1403/10/12"),
                               "token3": .string("https://kamva.ir/email/receipt/981")]),
            "user_id": .string("42"), "purpose": .string("reminder.expiration"),
        ]))
    }

    struct Result: Sendable {
        let workload: String
        let held: String
        let jobs: Int
        let usedMemoryDelta: Int
        let keyBytes: Int
        /// One job's envelope (or history record) as stored, in bytes.
        let storedBytes: Int
    }

    /// Every held state of every workload, `count` jobs each.
    static func run(url: String, jobs count: Int) async throws -> [Result] {
        var results: [Result] = []
        for workload in [Workload.peers, .reminderSMS] {
            results.append(try await ready(url: url, workload: workload, count: count))
            results.append(try await scheduled(url: url, workload: workload, count: count))
            results.append(try await finished(url: url, workload: workload, count: count, dead: true))
            results.append(try await finished(url: url, workload: workload, count: count, dead: false))
        }
        return results
    }

    private static func ready(url: String, workload: Workload, count: Int) async throws -> Result {
        try await measure(url, workload, "ready", count, keys: { [$0.stream] }) { jobs, _ in
            try await enqueue(jobs, workload, count, EnqueueOptions())
        }
    }

    private static func scheduled(url: String, workload: Workload, count: Int) async throws -> Result {
        try await measure(url, workload, "scheduled", count, keys: { [$0.scheduled, $0.scheduledJobs] }) { jobs, _ in
            try await enqueue(jobs, workload, count, EnqueueOptions(runAt: Date().addingTimeInterval(86_400)))
        }
    }

    /// Enqueues `count` jobs and lets one in-process worker run them all: each fails for good (`dead`) or succeeds
    /// (its history record kept: the cap raised to `count`, so every record stays).
    private static func finished(url: String, workload: Workload, count: Int, dead: Bool) async throws -> Result {
        let held = dead ? "dead" : "history"
        return try await measure(url, workload, held, count, keys: { dead ? [$0.dead, $0.deadJobs] : [$0.historyIDs, $0.historyJobs] }) { jobs, keys in
            // The stream is empty again at the end (each finished entry is deleted), so the delta is what the finished
            // jobs leave behind, with what their path writes besides (a dead job's event, the counters).
            var registry = JobRegistry()
            if workload.type == DiagIncrJob.Payload.jobType {
                registry.register(PeersProbe(fails: dead))
            } else {
                registry.register(ReminderProbe(fails: dead))
            }
            var options = WorkerOptions(concurrency: 20, deadMaxJobs: count)
            options.historyMaxJobs = dead ? 0 : count
            var logger = Logger(label: "bench")
            logger.logLevel = .critical
            let worker = Worker(jobs: jobs, registry: registry, options: options, logger: logger)
            let running = Task { try await worker.run() }
            let clock = ContinuousClock()
            let deadline = clock.now + .seconds(300)
            while true {
                let done = try await jobs.redis.send(dead ? "ZCARD" : "LLEN", dead ? keys.dead : keys.historyIDs).int ?? 0
                let waiting = try await jobs.store.streamLength(queue: "default")
                if done >= count && waiting == 0 { break }
                guard clock.now < deadline else { throw BenchError("memory: \(done) of \(count) jobs in \(held) after 300 s") }
                try await Task.sleep(for: .milliseconds(50))
            }
            worker.shutdown()
            try await running.value
        } prepare: { jobs in
            try await enqueue(jobs, workload, count, EnqueueOptions())
        }
    }

    /// Reads `used_memory`, runs `prepare` and `body`, reads it again and the size of `keys`, and one job's bytes as
    /// stored (a stream entry's or a hash field's value, the last key that is a stream or a hash).
    private static func measure(
        _ url: String, _ workload: Workload, _ held: String, _ count: Int, keys: (QueueKeys) -> [String],
        _ body: (JobQueue, QueueKeys) async throws -> Void, prepare: ((JobQueue) async throws -> Void)? = nil
    ) async throws -> Result {
        let redis = try RedisClient(url: url)
        defer { redis.close() }
        let namespace = "bench-mem-\(JobID.make().suffix(8))"
        let jobs = JobQueue(redis: redis, namespace: namespace)
        let queueKeys = QueueKeys(queue: "default", namespace: namespace)
        let before = try await usedMemory(redis)
        try await prepare?(jobs)
        try await body(jobs, queueKeys)
        let after = try await usedMemory(redis)
        var bytes = 0
        var stored = 0
        for key in keys(queueKeys) {
            bytes += try await redis.send("MEMORY", "USAGE", key, "SAMPLES", "0").int ?? 0
            switch try await redis.send("TYPE", key).string {
            case "stream":
                let entry = try await redis.send("XRANGE", key, "-", "+", "COUNT", "1").array?.first?.array
                stored = entry?.last?.array?.last?.bytes?.count ?? 0
            case "hash":
                if let field = try await redis.send("HRANDFIELD", key).string {
                    stored = try await redis.send("HSTRLEN", key, field).int ?? 0
                }
            default: break
            }
        }
        // Everything of the namespace goes, so the next measurement starts from the same server.
        var cursor = "0"
        repeat {
            let reply = try await redis.send("SCAN", cursor, "MATCH", GlobPattern.literal(namespace) + ":*", "COUNT", "1000").array ?? []
            cursor = reply.first?.string ?? "0"
            let found = (reply.count > 1 ? reply[1].array ?? [] : []).compactMap(\.string)
            if !found.isEmpty { _ = try await redis.send(RedisCommand("DEL", found)) }  // not UNLINK: freed now, not in the next measurement
        } while cursor != "0"
        return Result(workload: workload.label, held: held, jobs: count, usedMemoryDelta: after - before, keyBytes: bytes, storedBytes: stored)
    }

    private static func enqueue(_ jobs: JobQueue, _ workload: Workload, _ count: Int, _ options: EnqueueOptions) async throws {
        for start in stride(from: 0, to: count, by: 1000) {
            _ = try await jobs.enqueueBatch((start..<min(count, start + 1000)).map { _ in (type: workload.type, payload: workload.payload, options: options) })
        }
    }

    private static func usedMemory(_ redis: RedisClient) async throws -> Int {
        let text = try await redis.send("INFO", "memory").string ?? ""
        guard let line = text.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix("used_memory:") }),
              let value = Int(line.dropFirst("used_memory:".count)) else { throw BenchError("memory: no used_memory in INFO memory") }
        return value
    }
}

/// Accepts any payload: the memory benchmark's probes only succeed or fail.
private struct AnyPayload: Decodable, Sendable {
    init(from decoder: any Decoder) throws {}
}

/// The memory benchmark's stand-in for `diag.incr`: does nothing, or fails for good.
private struct PeersProbe: JobHandler {
    static let type = DiagIncrJob.Payload.jobType
    let fails: Bool
    func run(_ payload: AnyPayload, context: JobContext) async throws {
        if fails { throw JobFailure.permanent("benchmark: failed for good to measure the dead set") }
    }
}

/// The memory benchmark's stand-in for `sms.send` (nothing is sent): does nothing, or fails for good.
private struct ReminderProbe: JobHandler {
    static let type = "sms.send"
    let fails: Bool
    func run(_ payload: AnyPayload, context: JobContext) async throws {
        if fails { throw JobFailure.permanent("benchmark: failed for good to measure the dead set") }
    }
}
