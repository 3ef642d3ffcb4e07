import Foundation
import HoopoeJSON
import Logging
import Redis
import TestSupport
import Testing

@testable import HoopoeCore

/// `Worker.shutdown()` and `run()`: when `run()` returns, the jobs the worker fetched and had not started are back in
/// their queue, not left pending to it until their lease lapses (an attempt lost for each).
@Suite struct WorkerShutdownTests {
    /// The server closes the fetch connection while it is idle (the buffer full); its next fetch reconnects without a
    /// failure the loop sees, and blocks. Shutdown still wakes it at once: the wake-up reads the connection's client id
    /// as it is now. Before, it sent `CLIENT UNBLOCK` with the old id, which woke nothing, and the stop waited out the
    /// fetch's block (here 10 s); on a restarted server that id could be another client's.
    @Test func shutdownWakesAFetchThatReconnectedUnseen() async throws {
        let server = try RedisServer()
        let redis = try RedisClient(url: server.url)
        defer { redis.close() }
        let jobs = JobQueue(redis: redis, namespace: TestRedis.uniquePrefix("unseen"))
        let gate = TestGate()
        defer { gate.open() }
        try await jobs.enqueue(type: GatedRecordJob.type, payload: .object(["key": "k", "member": "a"]))
        try await jobs.enqueue(type: "diag.record", payload: .object(["key": "k", "member": "b"]))
        var options = WorkerOptions.fastTest(concurrency: 1)
        options.prefetch = 1
        options.maxPrefetch = 1
        options.fetchBlock = .seconds(10)
        let worker = Worker(jobs: jobs, registry: .diagnostic(gatedBy: gate), options: options, logger: EngineHarness.quietLogger)
        let run = Task { try await worker.run() }
        #expect(try await TestSupport.eventually { try await jobs.info(queue: "default").inFlight == 2 }, "a runs, b waits fetched")
        let clients = try await redis.send("CLIENT", "LIST").string ?? ""
        let fetch = try #require(clients.split(separator: "\n").first { $0.contains("cmd=xreadgroup") }, "\(clients)")
        let id = try #require(fetch.split(separator: " ").first { $0.hasPrefix("id=") }?.dropFirst(3))
        _ = try await redis.send("CLIENT", "KILL", "ID", String(id))
        gate.open()
        #expect(try await TestSupport.eventually { try await redis.send("HLEN", "k:count").int == 2 }, "both ran")
        try await server.waitUntilBlocked()
        let stopping = ContinuousClock.now
        worker.shutdown()
        try await run.value
        #expect(ContinuousClock.now - stopping < .seconds(5), "stopped after \(ContinuousClock.now - stopping)")
    }

    /// A log sink that takes 300 ms over the shutdown line (a slow disk, a blocked pipe): it widened the moment between
    /// the buffer's closing and the hand-back's listing, in which the worker could stop without waiting for it.
    struct SlowShutdownLine: LogHandler {
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .info
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            if "\(event.message)".hasPrefix("shutting down") { Thread.sleep(forTimeInterval: 0.3) }
        }
    }

    @Test func prefetchedJobsAreHandedBackBeforeRunReturns() async throws {
        let h = try EngineHarness()
        let key = "\(h.namespace):ran"
        let gate = TestGate()
        defer { gate.open() }
        try await h.jobs.enqueue(type: GatedRecordJob.type, payload: h.diag(key: key, member: "blocker"))
        _ = try await h.jobs.enqueueBatch((0..<30).map { n in
            (type: "diag.record", payload: h.diag(key: key, member: "m\(n)"), options: EnqueueOptions())
        })
        var options = WorkerOptions.fastTest(concurrency: 1)
        options.prefetch = 50
        let worker = Worker(
            jobs: h.jobs, registry: .diagnostic(gatedBy: gate), options: options, logger: Logger(label: "slow") { _ in SlowShutdownLine() })
        let run = Task { try await worker.run() }
        // Fetched is not yet started: stopped before its runner began it, the blocker was handed back with the rest.
        #expect(try await h.eventually { try await h.jobs.info(queue: "default").inFlight == 31 && gate.waiting == 1 }, "the blocker runs, 30 wait fetched")

        let opener = Task {
            try await Task.sleep(for: .milliseconds(50))
            gate.open()  // the blocker ends while the shutdown line is being written: the last runner stops the worker
        }
        worker.shutdown()
        try await run.value
        try await opener.value
        let info = try await h.jobs.info(queue: "default")
        #expect(info.inFlight == 0 && info.ready == 30, "every fetched job is back in the queue when run() returns: \(info)")
        #expect(try await h.recorded(key) == ["blocker": 1])
    }
}
