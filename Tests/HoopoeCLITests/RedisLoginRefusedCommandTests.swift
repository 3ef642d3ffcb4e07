import Foundation
import HoopoeCore
import Redis
import TestSupport
import Testing

/// A Redis that needs a password, asked by a URL without one (`NOAUTH`), is a refused login for every command, as a
/// wrong password (`WRONGPASS`) is: `ping` exited 1 (its help keeps 1 for an ACL refusing PING), admin commands 1,
/// `health-check --liveness` 1 (a probe's restart loop), and the worker waited for good. And `hoopoe scheduler` follows
/// the worker's rule for a refused login: exit 2 at its first call to Redis, not "TIME: authenticationFailed" every 5 s.
@Suite struct RedisLoginRefusedCommandTests {
    static let noPassword = "refused the login: Redis requires a password; the URL gives none"

    @Test func aURLWithoutThePasswordIsARefusedLoginForEveryCommand() async throws {
        let h = try CLIHarness()
        let server = try RedisServer(arguments: ["--requirepass", "the-secret"])
        let url = "redis://127.0.0.1:\(server.port)/0"
        for command in [["ping"], ["queues"], ["dead", "list"], ["functions", "load"]] {
            let (status, output) = try await h.run(command + ["--redis-url", url])
            #expect(status == 2, "\(command): \(output)")
            #expect(output.contains(Self.noPassword), "\(command): \(output)")
        }
        let database = try await h.run(["queues", "--redis-url", "redis://127.0.0.1:\(server.port)/1"])
        #expect(database.status == 2 && database.output.contains(Self.noPassword) && !database.output.contains("does not exist"), "\(database.output)")

        // As with a wrong password: the probe passes with a warning (restarting this process cannot mend a password).
        let wrong = try await h.run(["health-check", "--liveness", "--redis-url", "redis://:wrong@127.0.0.1:\(server.port)/0", "--timeout", "1s"])
        let none = try await h.run(["health-check", "--liveness", "--redis-url", url, "--timeout", "1s"])
        #expect(none.status == wrong.status, "NOAUTH: \(none.output)\nWRONGPASS: \(wrong.output)")
        #expect(none.output.contains(Self.noPassword), "\(none.output)")
    }

    @Test func theWorkerExits2() async throws {
        let h = try CLIHarness()
        let server = try RedisServer(arguments: ["--requirepass", "the-secret"])
        let (status, output) = try await h.run(["worker", "--redis-url", "redis://127.0.0.1:\(server.port)/0"], timeout: .seconds(20))
        #expect(status == 2, "\(output)")
        #expect(output.contains("Redis requires a password; the URL gives none"), "\(output)")
    }

    @Test(arguments: ["redis://:wrong-pass@127.0.0.1:PORT/0", "redis://127.0.0.1:PORT/0"])
    func theSchedulerExits2OnARefusedLogin(url: String) async throws {
        let h = try CLIHarness()
        let server = try RedisServer(arguments: ["--requirepass", "the-secret"])
        let redisURL = url.replacingOccurrences(of: "PORT", with: String(server.port))
        let (status, output) = try await h.run(["scheduler", "--schedule", noSchedule, "--redis-url", redisURL], timeout: .seconds(20))
        #expect(status == 2, "\(output)")
        #expect(output.contains("authenticationFailed") && !output.contains("wrong-pass"), "\(output)")
    }
}
