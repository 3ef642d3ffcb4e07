import Foundation
import HoopoeCore
import TestSupport
import Testing

/// At `LOG_LEVEL=debug` swift-service-lifecycle logs each service as `"\(service)"` when it starts and stops it: the
/// scheduler's, the worker's and the function keeper's services had no description, so their whole field trees were
/// printed: a scheduled task's payload with its `password` four times, and the worker's lines of 26 KB holding the
/// whole Lua library. Each is now named by a short description.
@Suite struct ServiceNamesInLogTests {
    @Test func aSchedulerAtDebugDoesNotPrintItsTasksPayloads() async throws {
        let h = try CLIHarness()
        let path = try TemporaryFiles.write("""
            tasks:
              - name: login.probe
                cron: "0 0 1 1 *"
                type: diag.record
                payload: {key: "\(h.namespace):ticks", member: m, password: hunter2}

            """, prefix: "hoopoe-schedule-", suffix: ".yaml")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let scheduler = try ChildProcess(BuiltProducts.hoopoe, ["scheduler", "--schedule", path], environment: [
            "REDIS_URL": try TestRedis.url(), "HOOPOE_NAMESPACE": h.namespace, "LOG_LEVEL": "debug",
        ])
        defer { scheduler.signal(SIGKILL) }
        #expect(try await h.eventually { try await h.jobs.liveProcesses().contains { $0.kind == "scheduler" } }, "\(scheduler.output)")
        scheduler.signal(SIGTERM)
        #expect(await scheduler.wait(timeout: .seconds(15)) == 0, "\(scheduler.output)")
        let output = scheduler.output
        // The debug lines were written (started and stopped, by name), and the secret is in none of them.
        #expect(output.contains("SchedulerService") && output.contains("HoopoeFunctions"), "\(output)")
        #expect(!output.contains("hunter2"), "\(output)")
    }

    @Test func aWorkerAtDebugNamesItsServicesInShortLines() async throws {
        let h = try CLIHarness()
        let worker = try await h.startWorker(["--queues", "default"], environment: ["LOG_LEVEL": "debug"])
        defer { worker.signal(SIGKILL) }
        worker.signal(SIGTERM)
        #expect(await worker.wait(timeout: .seconds(30)) == 0, "\(worker.output)")
        let output = worker.output
        #expect(output.contains("WorkerService") && output.contains("HoopoeFunctions"), "\(output)")
        // Not the services' fields: the heartbeat (and its id, host, loggers), the function library's scripts.
        #expect(!output.contains("Heartbeat(") && !output.contains("FunctionLibrary"), "\(output)")
        let longest = output.split(whereSeparator: \.isNewline).map(\.count).max() ?? 0
        #expect(longest < 1000, "a line of \(longest) characters")
    }
}
