import Foundation
import HoopoeCore
import HoopoeJSON
import Redis
import TestSupport
import Testing

/// Where handlers run (decision 0072): on the shared connections' threads, half the runners on each, when the worker's
/// client has two (as `hoopoe worker`'s has); on Swift's global pool when it has one.
@Suite struct WorkerRunnerThreadsTests {
    /// Records the name of the thread its handler runs on after a suspension (where its task resumes).
    private struct ThreadNameJob: JobHandler {
        struct Payload: JobPayload {
            static let jobType = "test.thread_name"
            let key: String
        }

        func run(_ payload: Payload, context: JobContext) async throws {
            try await Task.sleep(for: .milliseconds(20))
            try await context.redis.send("SADD", payload.key, ThreadName.current)
        }
    }

    private func threadNames(poolSize: Int, _ name: String = #function) async throws -> Set<String> {
        let space = try TestNamespace(name, poolSize: poolSize)
        let key = "\(space.namespace):threads"
        _ = try await space.jobs.enqueueBatch((0..<16).map { _ in
            (type: ThreadNameJob.Payload.jobType, payload: .object(["key": .string(key)]), options: EnqueueOptions())
        })
        var registry = JobRegistry()
        registry.register(ThreadNameJob())
        let worker = Worker(jobs: space.jobs, registry: registry, options: .fastTest(concurrency: 4), logger: EngineHarness.quietLogger)
        let task = Task { try await worker.run() }
        let deadline = ContinuousClock.now + .seconds(20)
        while try await space.jobs.counters(queue: "default")["processed"] ?? 0 < 16, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        worker.shutdown()
        try await task.value
        #expect(try await space.jobs.counters(queue: "default")["processed"] == 16)
        return Set(try await space.redis.send("SMEMBERS", key).array?.compactMap(\.string) ?? [])
    }

    @Test func withTwoSharedConnectionsHandlersRunOnTheirThreadsHalfOnEach() async throws {
        #expect(Worker.sharedConnections == 2)
        #expect(try await threadNames(poolSize: Worker.sharedConnections) == ["hoopoe-redis-0", "hoopoe-redis-1"])
    }

    @Test func withOneConnectionHandlersRunOnTheGlobalPool() async throws {
        let names = try await threadNames(poolSize: 1)
        #expect(!names.isEmpty && !names.contains { $0.hasPrefix("hoopoe-redis") }, "\(names)")
    }
}
