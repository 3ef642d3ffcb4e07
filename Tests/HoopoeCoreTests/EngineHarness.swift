import Foundation
import HoopoeCore
import HoopoeJSON
import Logging
import Redis
import TestSupport

/// A private namespace on the test Redis, a JobQueue on it, and in-process workers that stop cleanly.
final class EngineHarness: Sendable {
    private let space: TestNamespace
    var redis: RedisClient { space.redis }
    var jobs: JobQueue { space.jobs }
    var namespace: String { space.namespace }

    init(_ name: String = #function) throws {
        space = try TestNamespace(name)
    }

    static var quietLogger: Logger {
        var logger = Logger(label: "test")
        logger.logLevel = ProcessInfo.processInfo.environment["TEST_LOG"] == nil ? .critical : .debug
        return logger
    }

    /// Starts a worker in a task; returns it and the task that ends when it stopped.
    func startWorker(_ registry: JobRegistry = .diagnostic, options: WorkerOptions = .fastTest()) -> (Worker, Task<Void, any Error>) {
        let worker = Worker(jobs: jobs, registry: registry, options: options, logger: Self.quietLogger)
        let task = Task { try await worker.run() }
        return (worker, task)
    }

    /// Members recorded by `diag.record` jobs under `key`, with how many times each ran.
    func recorded(_ key: String) async throws -> [String: Int] {
        let reply = try await redis.send("HGETALL", key + ":count")
        var result: [String: Int] = [:]
        let items = reply.array ?? []
        for i in stride(from: 0, to: items.count - 1, by: 2) { result[items[i].string!] = items[i + 1].int }
        return result
    }

    func eventually(timeout: Duration = outcomeDeadline, _ condition: () async throws -> Bool) async throws -> Bool {
        try await TestSupport.eventually(timeout: timeout, condition)
    }

    func diag(key: String, member: String, sleepMs: Int? = nil) -> JSONValue {
        var object: [String: JSONValue] = ["key": .string(key), "member": .string(member)]
        if let sleepMs { object["sleep_ms"] = .integer(Int64(sleepMs)) }
        return .object(object)
    }
}

extension JobRegistry {
    static var diagnostic: JobRegistry {
        var registry = JobRegistry()
        registry.register(DiagRecordJob())
        return registry
    }
}

extension WorkerOptions {
    /// Short intervals so tests settle fast.
    static func fastTest(queues: [String] = ["default"], concurrency: Int = 10, lease: Duration = .seconds(30)) -> WorkerOptions {
        WorkerOptions(
            queues: QueueSelection(queues), concurrency: concurrency, lease: lease, recoveryInterval: .milliseconds(200),
            promoteInterval: .milliseconds(50), fetchBlock: .milliseconds(200), shutdownTimeout: .seconds(2))
    }
}
