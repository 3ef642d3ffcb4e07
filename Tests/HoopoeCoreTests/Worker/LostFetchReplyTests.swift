import Foundation
import HoopoeJSON
import Redis
import Synchronization
import TestSupport
import Testing

@testable import HoopoeCore

/// A fetch whose reply never arrived: Redis ran the `XREADGROUP` and the connection dropped before its answer reached
/// the worker (``ReplyDroppingProxy`` between the worker and the shared server). The jobs it delivered are the worker's
/// own: it takes them before its next fetch and runs them as first attempts. Before, they waited out the lease and were
/// recovered as delivered twice: a job with `max_attempts: 1` was buried as "worker lost" without running.
@Suite struct LostFetchReplyTests {
    /// Records the attempt each run was.
    struct AttemptRecordingJob: JobHandler {
        struct Payload: Codable, Sendable { let marker: String }
        static let type = "test.attempt-recording"
        let attempts: Attempts
        func run(_ payload: Payload, context: JobContext) async throws {
            attempts.list.withLock { $0.append(context.attempt) }
        }
    }

    final class Attempts: Sendable {
        let list = Mutex<[Int]>([])
    }

    /// A worker reaching the shared test server through a ``ReplyDroppingProxy``, its fetch blocked there; `jobs` is
    /// the test's own way in, straight to the server. The default lease (30 s here): no job can wait it out within the
    /// tests' deadlines.
    final class ProxiedWorker: Sendable {
        let direct: RedisClient
        let proxy: ReplyDroppingProxy
        let proxied: RedisClient
        let jobs: JobQueue
        let attempts = Attempts()
        let log = CapturedLog()
        let worker: Worker
        let run: Task<Void, any Error>

        init(_ name: String) async throws {
            direct = try TestRedis.client()
            let port = try #require(URLComponents(string: try TestRedis.url())?.port)
            proxy = try ReplyDroppingProxy(to: port)
            proxied = try RedisClient(url: "redis://127.0.0.1:\(proxy.port)/0")
            let namespace = TestRedis.uniquePrefix(name)
            jobs = JobQueue(redis: direct, namespace: namespace)
            var registry = JobRegistry()
            registry.register(AttemptRecordingJob(attempts: attempts))
            let worker = Worker(
                jobs: JobQueue(redis: proxied, namespace: namespace), registry: registry, options: .fastTest(concurrency: 1), logger: log.logger)
            self.worker = worker
            run = Task { try await worker.run() }
            try await jobs.store.createGroups(queues: ["default"])
            // The worker's fetch is blocked, through the proxy: its first XREADGROUP went through, and it waits in the
            // next. A fixed 300 ms from the start, on a loaded machine, left a test's enqueue before the first fetch,
            // and the job went out in a reply the test was not watching for (a run of session 55).
            let proxy = proxy
            let fetching = try await TestSupport.eventually(timeout: .seconds(20)) { proxy.forwarded(containing: "XREADGROUP") >= 1 }
            try #require(fetching, "the worker never fetched through the proxy")
            try await Task.sleep(for: .milliseconds(300))
        }

        /// Stops the worker (its run must end cleanly) and closes the clients and the proxy.
        func stop() async throws {
            worker.shutdown()
            defer {
                proxied.close()
                proxy.close()
                direct.close()
            }
            try await run.value
        }
    }

    @Test func aJobWhoseFetchReplyWasLostRunsOnceAsItsFirstAttempt() async throws {
        let w = try await ProxiedWorker("lost-fetch")
        let marker = "lost-\(UUID().uuidString)"
        w.proxy.dropNextReply(toCommand: "XREADGROUP", containing: marker)
        _ = try await w.jobs.enqueue(type: AttemptRecordingJob.type, payload: .object(["marker": .string(marker)]), options: EnqueueOptions(maxAttempts: 1))

        #expect(try await TestSupport.eventually(timeout: .seconds(10)) { w.attempts.list.withLock { !$0.isEmpty } }, "ran within 10 s, before its lease")
        #expect(w.proxy.droppedReplies.count == 1 && w.proxy.droppedReplies.allSatisfy { $0.contains(marker) }, "the reply delivering it was lost")
        #expect(try await TestSupport.eventually { try await w.jobs.info(queue: "default").inFlight == 0 }, "acknowledged")
        #expect(w.attempts.list.withLock { $0 } == [1], "one run, its first attempt")
        #expect(try await w.jobs.info(queue: "default").dead == 0)
        // docs/operating.md quotes it.
        #expect(w.log.all.contains("warning took 1 jobs a fetch whose reply was lost had delivered to this worker"), "\(w.log.all)")
        try await w.stop()
    }

    /// The look for a lost reply's jobs refused (the stream and its group gone, as after a restart that kept no data:
    /// `NOGROUP`): the fetch goes on and creates the group again. The look was retried before every fetch instead,
    /// and the worker never fetched again.
    @Test func aLookRedisRefusesDoesNotStopTheFetches() async throws {
        let w = try await ProxiedWorker("lost-fetch-nogroup")
        let lost = "lost-\(UUID().uuidString)"
        w.proxy.dropNextReply(toCommand: "XREADGROUP", containing: lost)
        _ = try await w.jobs.enqueue(type: AttemptRecordingJob.type, payload: .object(["marker": .string(lost)]))
        // Gone before the worker looks for it (it waits 100 ms after the failed fetch): the stream and its group.
        try await w.direct.send("DEL", w.jobs.keys("default").stream)
        #expect(try await TestSupport.eventually { w.proxy.droppedReplies.count == 1 })
        let next = "next-\(UUID().uuidString)"
        _ = try await w.jobs.enqueue(type: AttemptRecordingJob.type, payload: .object(["marker": .string(next)]))
        #expect(try await TestSupport.eventually(timeout: .seconds(10)) { w.attempts.list.withLock { $0.count } == 1 }, "the next job ran")
        try await w.stop()
    }
}
