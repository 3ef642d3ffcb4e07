import Foundation
import HoopoeCore
import TestSupport
import Testing

/// `hoopoe scheduler` refuses a bad schedule at start-up, naming the task and the key, and runs a good
/// one: its ticks arrive as jobs and it heartbeats.
@Suite struct SchedulerCommandTests {
    private func schedule(_ yaml: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("hoopoe-schedule-\(UUID().uuidString).yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test(arguments: [
        ("cron: \"0 25 * * *\"", "hour"),
        ("cron: \"* * * * *\"\n    time_zone: Mars/Olympus", "time_zone"),
    ])
    func badScheduleStopsStartUpNamingTheTask(line: String, key: String) async throws {
        let h = try CLIHarness()
        let path = try schedule("tasks:\n  - name: nightly.cleanup\n    \(line)\n    type: diag.record\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (status, output) = try await h.run(["scheduler", "--schedule", path], timeout: .seconds(10))
        #expect(status == 78)
        #expect(output.contains("nightly.cleanup") && output.contains(key), "\(output)")
    }

    @Test func goodScheduleEnqueuesTicksAndHeartbeats() async throws {
        let h = try CLIHarness()
        let path = try schedule("""
            tasks:
              - name: every.second
                cron: "* * * * * *"
                type: diag.record
                payload: {key: "\(h.namespace):ticks", member: "t"}
            """)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let scheduler = try ChildProcess(BuiltProducts.hoopoe, ["scheduler", "--schedule", path], environment: [
            "REDIS_URL": try TestRedis.url(), "HOOPOE_NAMESPACE": h.namespace, "LOG_LEVEL": "warning",
        ])
        #expect(try await h.eventually { try await h.jobs.info(queue: "default").ready >= 2 }, "\(scheduler.output)")
        #expect(try await h.jobs.liveProcesses().contains { $0.kind == "scheduler" })
        scheduler.signal(SIGTERM)
        #expect(await scheduler.wait(timeout: .seconds(10)) == 0, "\(scheduler.output)")
        #expect(try await h.jobs.liveProcesses().isEmpty, "an orderly stop removes the heartbeat")
    }
}
