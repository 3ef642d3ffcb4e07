import Foundation
import HoopoeCore
import HoopoeJSON
import Redis
import TestSupport

/// Runs the real `hoopoe` binary against the test Redis in a namespace of its own.
final class CLIHarness: Sendable {
    private let space: TestNamespace
    var redis: RedisClient { space.redis }
    var jobs: JobQueue { space.jobs }
    var namespace: String { space.namespace }

    init(_ name: String = #function) throws {
        space = try TestNamespace(name, poolSize: 1)
    }

    private var environment: [String: String] {
        get throws { ["REDIS_URL": try TestRedis.url(), "HOOPOE_NAMESPACE": namespace, "LOG_LEVEL": "warning"] }
    }

    /// Runs `hoopoe <arguments>` to the end; returns its exit status and everything it printed.
    func run(_ arguments: [String], environment extra: [String: String] = [:], timeout: Duration = .seconds(20)) async throws -> (status: Int32, output: String) {
        let process = try ChildProcess(BuiltProducts.hoopoe, arguments, environment: try environment.merging(extra) { $1 })
        guard let status = await process.wait(timeout: timeout) else {
            throw TestSupportError("hoopoe \(arguments.joined(separator: " ")) did not finish within \(timeout): \(process.output)")
        }
        return (status, process.output)
    }

    /// Runs `hoopoe <arguments> --json`-style commands and parses stdout's JSON line.
    func json(_ arguments: [String]) async throws -> (status: Int32, json: JSONValue) {
        let (status, output) = try await run(arguments)
        let line = output.split(separator: "\n").first { $0.hasPrefix("{") }.map(String.init) ?? ""
        guard let value = JSONValue.parse(Array(line.utf8)) else { throw TestSupportError("not JSON: \(output)") }
        return (status, value)
    }

    /// Starts `hoopoe worker` and waits until its heartbeat is in Redis.
    func startWorker(_ arguments: [String] = [], environment extra: [String: String] = [:]) async throws -> ChildProcess {
        let process = try ChildProcess(BuiltProducts.hoopoe, ["worker"] + arguments, environment: try environment.merging(extra) { $1 })
        let deadline = ContinuousClock.now + outcomeDeadline
        while ContinuousClock.now < deadline {
            if try await jobs.liveProcesses().contains(where: { $0.kind == "worker" }) { return process }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TestSupportError("the worker did not beat within \(outcomeDeadline): \(process.output)")
    }

    func eventually(timeout: Duration = outcomeDeadline, _ condition: () async throws -> Bool) async throws -> Bool {
        try await TestSupport.eventually(timeout: timeout, condition)
    }

    /// Puts a dead job straight into a queue's dead set, as a worker would leave it.
    func seedDead(id: String, queue: String = "default", type: String = "sms.send", payload: JSONValue, reason: String) async throws {
        var envelope = JobEnvelope(id: id, type: type, queue: queue, payload: payload, attempt: 25, maxAttempts: 25, lastError: reason)
        envelope.deadReason = reason
        envelope.diedAt = Date().timeIntervalSince1970 - 60
        let k = jobs.keys(queue)
        var hset = RedisCommand("HSET", k.deadJobs, id)
        hset.append(bytes: envelope.encoded())
        _ = try await redis.pipeline([
            RedisCommand("ZADD", k.dead, String(envelope.diedAt ?? 0), id), hset, RedisCommand("SADD", jobs.global.queues, queue),
        ])
    }
}

/// An empty schedule file (no tasks): the scheduler check then does not ask for a scheduler. (A path that does not
/// exist, named by `--schedule`, fails that check.)
let noSchedule: String = {
    guard let path = try? TemporaryFiles.write("# no tasks\n", prefix: "hoopoe-test-empty-schedule-", suffix: ".yaml") else {
        preconditionFailure("the temporary folder cannot be written")
    }
    return path
}()
