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

    /// Runs jobs on a worker of concurrency 4 and a fixed prefetch of 4: first `backlog` jobs enqueued at once, then
    /// `trickle` jobs each enqueued once the one before was processed. Returns what each phase's handlers saw.
    private func run(
        backlog: Int, trickle: Int, poolSize: Int, _ name: String = #function
    ) async throws -> (backlog: Seen, trickle: Seen) {
        let space = try TestNamespace(name, poolSize: poolSize)
        let key = "\(space.namespace):threads"
        let job = (type: ThreadNameJob.Payload.jobType, payload: JSONValue.object(["key": .string(key)]), options: EnqueueOptions())
        var registry = JobRegistry()
        registry.register(ThreadNameJob())
        var options = WorkerOptions.fastTest(concurrency: 4)
        options.prefetch = 4
        options.maxPrefetch = 4
        let worker = Worker(jobs: space.jobs, registry: registry, options: options, logger: EngineHarness.quietLogger)
        let task = Task { try await worker.run() }
        func processed() async throws -> Int { try await space.jobs.counters(queue: "default")["processed"] ?? 0 }
        if backlog > 0 {
            _ = try await space.jobs.enqueueBatch(Array(repeating: job, count: backlog))
            #expect(try await eventually(timeout: .seconds(30)) { try await processed() == backlog })
        }
        for n in 0..<trickle {
            _ = try await space.jobs.enqueueBatch([job])
            #expect(try await eventually { try await processed() == backlog + n + 1 })
        }
        worker.shutdown()
        try await task.value
        let seen = try await space.redis.send("LRANGE", key, "0", "-1").array?.compactMap(\.string) ?? []
        #expect(seen.count == backlog + trickle)
        let parts = seen.map { $0.split(separator: " ").map(String.init) }
        func phase(_ range: Range<Int>) -> Seen {
            let slice = parts[range.clamped(to: 0..<parts.count)]
            return Seen(threads: slice.map { $0[0] }, connections: Set(slice.map { $0[1] }))
        }
        return (phase(0..<backlog), phase(backlog..<(backlog + trickle)))
    }

    @Test func throughABacklogHandlersRunOnTheSharedConnectionsThreadsHalfOnEach() async throws {
        #expect(Worker.sharedConnections == 2)
        let seen = try await run(backlog: 400, trickle: 0, poolSize: Worker.sharedConnections).backlog
        #expect(Set(seen.threads.filter { $0.hasPrefix("hoopoe-redis") }) == ["hoopoe-redis-0", "hoopoe-redis-1"])
        // The first fetches find the backlog (two full fetches); a few jobs run on the pool before.
        #expect(seen.onConnectionThreads >= 300, "\(seen.onConnectionThreads) of 400 on the connections' threads")
        #expect(seen.connections.count == 2, "each thread's handlers send on its connection: \(seen.connections)")
    }

    @Test func withoutABacklogHandlersRunOnTheGlobalPoolAndSendOnTheFirstConnection() async throws {
        let seen = try await run(backlog: 0, trickle: 20, poolSize: Worker.sharedConnections).trickle
        #expect(seen.onConnectionThreads == 0, "\(seen.threads)")
        #expect(seen.connections.count == 1, "every call on one connection: \(seen.connections)")
    }

    /// The runners move back once the backlog is worked off, and the other calls return to one connection.
    @Test func afterABacklogHandlersGoBackToThePoolAndTheFirstConnection() async throws {
        let seen = try await run(backlog: 400, trickle: 20, poolSize: Worker.sharedConnections)
        #expect(seen.backlog.onConnectionThreads >= 300, "\(seen.backlog.onConnectionThreads) of 400 on the connections' threads")
        #expect(seen.trickle.onConnectionThreads == 0, "\(seen.trickle.threads)")
        #expect(seen.trickle.connections.count == 1, "every call on one connection: \(seen.trickle.connections)")
    }

    /// The routing changes when the worker runs, not when it is made: a client shared with a worker that never ran
    /// sends round its pool as before.
    @Test func aWorkerThatNeverRanLeavesItsClientsCallsRoundThePool() async throws {
        let space = try TestNamespace(poolSize: Worker.sharedConnections)
        let worker = Worker(
            jobs: space.jobs, registry: JobRegistry(), options: .fastTest(concurrency: 4),
            logger: EngineHarness.quietLogger)
        var ids = Set<Int>()
        for _ in 0..<8 { ids.insert(try await space.redis.send("CLIENT", "ID").int ?? -1) }
        #expect(ids.count == Worker.sharedConnections, "calls on \(ids)")
        withExtendedLifetime(worker) {}
    }

    /// A worker that stopped routes its client round the pool again: the calls of a client that outlives it (an
    /// in-process enqueuer's) go on both connections, as before the worker ran.
    @Test func aStoppedWorkerLeavesItsClientsCallsRoundThePool() async throws {
        let space = try TestNamespace(poolSize: Worker.sharedConnections)
        let worker = Worker(
            jobs: space.jobs, registry: JobRegistry(), options: .fastTest(concurrency: 4),
            logger: EngineHarness.quietLogger)
        func connectionsOfEightCalls() async throws -> Set<Int> {
            var ids = Set<Int>()
            for _ in 0..<8 { ids.insert(try await space.redis.send("CLIENT", "ID").int ?? -1) }
            return ids
        }
        let task = Task { try await worker.run() }
        // Once it runs, without a backlog, every call of a task that prefers no connection goes on the first.
        #expect(try await eventually { try await connectionsOfEightCalls().count == 1 })
        worker.shutdown()
        try await task.value
        let after = try await connectionsOfEightCalls()
        #expect(after.count == Worker.sharedConnections, "calls on \(after) after the worker stopped")
    }

    @Test func withOneConnectionHandlersRunOnTheGlobalPool() async throws {
        let seen = try await run(backlog: 400, trickle: 0, poolSize: 1).backlog
        #expect(seen.onConnectionThreads == 0, "\(Set(seen.threads))")
    }
}
