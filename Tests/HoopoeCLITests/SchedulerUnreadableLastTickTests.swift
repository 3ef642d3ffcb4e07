import Foundation
import Redis
import TestSupport
import Testing

/// `hoopoe scheduler` warns of a task's last-tick key that exists but cannot be read, naming the key and what it held
/// (cut, phone numbers masked). Before, `SET hoopoe:{kq}:schedule:canary:last abc` was logged at info as "no history for
/// canary in queue kq", the line of a task new to the file.
@Suite struct SchedulerUnreadableLastTickTests {
    @Test func anUnreadableLastTickIsAWarningNamingTheKey() async throws {
        let h = try CLIHarness()
        let path = try TemporaryFiles.write("""
            tasks:
              - name: canary
                cron: "* * * * * *"
                queue: kq
                type: diag.record
                payload: {key: "\(h.namespace):ticks", member: "t"}
            """, prefix: "hoopoe-schedule-", suffix: ".yaml")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let key = "\(h.namespace):{kq}:schedule:canary:last"
        try await h.redis.send("SET", key, "abc 09121234567 " + String(repeating: "z", count: 500))
        let scheduler = try ChildProcess(BuiltProducts.hoopoe, ["scheduler", "--schedule", path], environment: [
            "REDIS_URL": try TestRedis.url(), "HOOPOE_NAMESPACE": h.namespace, "LOG_LEVEL": "info",
        ])
        #expect(try await h.eventually { scheduler.output.contains("last tick key") })
        scheduler.signal(SIGTERM)
        _ = await scheduler.wait(timeout: .seconds(10))
        let output = scheduler.output
        let line = try #require(output.split(separator: "\n").first { $0.contains("last tick key") }, "\(output)")
        #expect(line.contains("warning") && line.contains(key) && line.contains("'abc 0912****567 zzz"), "\(line)")
        #expect(!output.contains("09121234567") && !output.contains(String(repeating: "z", count: 100)), "\(output)")
        #expect(!output.contains("no history for canary"), "\(output)")
    }
}
