import Foundation
import HoopoeCore
import HoopoeJSON
import Redis
import TestSupport
import Testing

/// Where handlers run (decisions 0072 and 0076). With two shared connections (as `hoopoe worker`'s client has): through
/// a backlog on their threads, half the runners on each; without one on Swift's global pool, with every call on the
/// first connection. With one connection, always on the global pool.
@Suite struct WorkerRunnerThreadsTests {
    /// Records the thread its handler runs on after a suspension (where its task resumes) and the connection its call
    /// went on.
    private struct ThreadNameJob: JobHandler {
        struct Payload: JobPayload {
            static let jobType = "test.thread_name"
            let key: String
        }

        func run(_ payload: Payload, context: JobContext) async throws {
            try await Task.sleep(for: .milliseconds(5))
            let connection = try await context.redis.send("CLIENT", "ID").int ?? -1
            try await context.redis.send("RPUSH", payload.key, "\(ThreadName.current) \(connection)")
        }
    }

    /// What the handlers recorded: each job's thread name and connection id.
    private struct Seen {
        let threads: [String]
        let connections: Set<String>
        var onConnectionThreads: Int { threads.count { $0.hasPrefix("hoopoe-redis") } }
    }

    /// Runs `count` jobs on a worker of concurrency 4 and a fixed prefetch of 4; `trickle`: each enqueued once the one
    /// before was processed, else all before the worker starts (a backlog).
    private func run(_ count: Int, poolSize: Int, trickle: Bool, _ name: String = #function) async throws -> Seen {
        let space = try TestNamespace(name, poolSize: poolSize)
        let key = "\(space.namespace):threads"
        let job = (type: ThreadNameJob.Payload.jobType, payload: JSONValue.object(["key": .string(key)]), options: EnqueueOptions())
        if !trickle { _ = try await space.jobs.enqueueBatch(Array(repeating: job, count: count)) }
        var registry = JobRegistry()
        registry.register(ThreadNameJob())
        var options = WorkerOptions.fastTest(concurrency: 4)
        options.prefetch = 4
        options.maxPrefetch = 4
        let worker = Worker(jobs: space.jobs, registry: registry, options: options, logger: EngineHarness.quietLogger)
        let task = Task { try await worker.run() }
        for n in 0..<count where trickle {
            _ = try await space.jobs.enqueueBatch([job])
            #expect(try await eventually { try await space.jobs.counters(queue: "default")["processed"] ?? 0 == n + 1 })
        }
        #expect(try await eventually(timeout: .seconds(30)) { try await space.jobs.counters(queue: "default")["processed"] ?? 0 == count })
        worker.shutdown()
        try await task.value
        let seen = try await space.redis.send("LRANGE", key, "0", "-1").array?.compactMap(\.string) ?? []
        #expect(seen.count == count)
        let parts = seen.map { $0.split(separator: " ").map(String.init) }
        return Seen(threads: parts.map { $0[0] }, connections: Set(parts.map { $0[1] }))
    }

    @Test func throughABacklogHandlersRunOnTheSharedConnectionsThreadsHalfOnEach() async throws {
        #expect(Worker.sharedConnections == 2)
        let seen = try await run(400, poolSize: Worker.sharedConnections, trickle: false)
        #expect(Set(seen.threads.filter { $0.hasPrefix("hoopoe-redis") }) == ["hoopoe-redis-0", "hoopoe-redis-1"])
        // The first fetches find the backlog (two full fetches); a few jobs run on the pool before.
        #expect(seen.onConnectionThreads >= 300, "\(seen.onConnectionThreads) of 400 on the connections' threads")
        #expect(seen.connections.count == 2, "each thread's handlers send on its connection: \(seen.connections)")
    }

    @Test func withoutABacklogHandlersRunOnTheGlobalPoolAndSendOnTheFirstConnection() async throws {
        let seen = try await run(20, poolSize: Worker.sharedConnections, trickle: true)
        #expect(seen.onConnectionThreads == 0, "\(seen.threads)")
        #expect(seen.connections.count == 1, "every call on one connection: \(seen.connections)")
    }

    @Test func withOneConnectionHandlersRunOnTheGlobalPool() async throws {
        let seen = try await run(400, poolSize: 1, trickle: false)
        #expect(seen.onConnectionThreads == 0, "\(Set(seen.threads))")
    }
}
