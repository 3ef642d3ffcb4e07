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
