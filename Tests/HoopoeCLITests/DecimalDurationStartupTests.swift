import TestSupport
import Testing

/// `hoopoe worker` stops with exit 78 naming the variable when a setting of seconds is not written in decimal, as it
/// does for `SMS_DAILY_CAP=0x10`: before, `0x10` started it with 16 s (`Double("0x10")` is 16).
@Suite struct DecimalDurationStartupTests {
    @Test(arguments: ["SMS_UNKNOWN_OUTCOME_RETRY_SECONDS", "REGISTRATION_STATUS_POLL_SECONDS", "SMS_DAILY_CAP"])
    func aHexadecimalValueStopsTheWorkerNamingTheVariable(key: String) async throws {
        let h = try CLIHarness()
        let (status, output) = try await h.run(["worker"], environment: [key: "0x10"], timeout: .seconds(15))
        #expect(status == 78, "\(output)")
        #expect(output.contains(key) && output.contains("0x10"), "\(output)")
    }

    /// The Redis URL's `timeout=` too: a bad setting, exit 78.
    @Test func aHexadecimalRedisTimeoutStopsTheWorker() async throws {
        let h = try CLIHarness()
        let url = try TestRedis.url()
        let (status, output) = try await h.run(["worker"], environment: ["REDIS_URL": url + (url.contains("?") ? "&" : "?") + "timeout=0x10"], timeout: .seconds(15))
        #expect(status == 78, "\(output)")
        #expect(output.contains("timeout '0x10'"), "\(output)")
    }
}

/// Every flag of seconds or of a duration, of every command, takes decimal only, as the settings do
/// (``DecimalNumber``): a usage error (64, as any flag that does not parse) naming the flag and the value. Before,
/// `Double(_:)` read `--lease 0x10` as 16 s and started the worker, `--timeout 1e3s` as 1000 s.
@Suite struct DecimalFlagsTests {
    @Test(arguments: [
        (["worker"], "--lease", "0x10"), (["worker"], "--shutdown-timeout", "0x10"), (["worker"], "--lease", "1e3"),
        (["worker"], "--shutdown-timeout", "+5"), (["worker"], "--lease", "inf"), (["worker"], "--lease", "nan"),
        (["queues", "--watch"], "--interval", "0x1p1"), (["job", "cancel", "j-decimal"], "--wait", "0x1"),
        (["health-check"], "--timeout", "0x10s"), (["health-check"], "--max-latency", "1e3s"),
        (["health-check"], "--canary-timeout", "0x10"), (["enqueue", "diag.incr"], "--in", "1e3s"),
        (["enqueue", "diag.incr", "--unique-key", "k"], "--unique-for", "0x10m"),
    ])
    func aNumberNotWrittenInDecimalIsAUsageErrorNamingTheFlag(command: [String], flag: String, value: String) async throws {
        let h = try CLIHarness()
        let (status, output) = try await h.run(command + [flag, value], timeout: .seconds(15))
        #expect(status == 64, "\(output)")
        #expect(output.contains(flag) && output.contains("'\(value)'"), "\(output)")
        #expect(!output.contains("(got"), "read as a number: \(output)")
    }

    /// Decimal numbers are taken as before (a fraction of seconds too), and `--help` still says the default.
    @Test func aDecimalFractionIsTaken() async throws {
        let h = try CLIHarness()
        let (status, output) = try await h.run(["job", "cancel", "j-none", "--wait", "0.5"], timeout: .seconds(15))
        #expect(status == 1 && output.contains("j-none"), "\(output)")
        let help = try await h.run(["worker", "--help"])
        #expect(help.output.contains("default 25)"), "\(help.output)")
    }
}

