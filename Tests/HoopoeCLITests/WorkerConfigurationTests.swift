import Foundation
import TestSupport
import Testing

/// `hoopoe worker` refuses a domain setting it cannot use before it touches Redis: exit 78 (EX_CONFIG) and a
/// message naming the variable, never echoing a secret.
@Suite struct WorkerConfigurationTests {
    @Test(arguments: [
        (["SMS_DRY_RUN": "maybe"], "SMS_DRY_RUN"),
        (["HOOPOE_TIME_ZONE": "Asia/Atlantis"], "HOOPOE_TIME_ZONE"),
        (["IPPANEL_API_KEY": "secret-ippanel-key"], "IPPANEL_FROM_NUMBER"),
        (["KAVENEGAR_API_KEY": "secret-kavenegar-key", "KAVENEGAR_BASE_URL": "api.kavenegar.com"], "KAVENEGAR_BASE_URL"),
        // The receipt link is a Kavenegar token: an underscore would fail every expiration reminder with 431.
        (["RECEIPT_BASE_URL": "https://kamva.ir/email_receipt"], "RECEIPT_BASE_URL"),
    ])
    func badSettingStopsStartUpNamingTheVariable(environment: [String: String], key: String) async throws {
        let h = try CLIHarness()
        let (status, output) = try await h.run(["worker"], environment: environment, timeout: .seconds(15))
        #expect(status == 78, "\(output)")
        #expect(output.contains(key), "\(output)")
        #expect(!output.contains("secret-"), "no API key in the output: \(output)")
    }

    /// Issue 11: a number of seconds becomes a `Duration` through `Int`; 1e300 or inf trapped. Refused as a usage
    /// error (64) naming the flag.
    @Test(arguments: [
        (["--lease", "1e300"], "--lease"), (["--lease", "inf"], "--lease"), (["--lease", "nan"], "--lease"),
        (["--shutdown-timeout", "1e300"], "--shutdown-timeout"), (["--shutdown-timeout", "-1"], "--shutdown-timeout"),
    ])
    func outOfRangeSecondsAreAUsageErrorNamingTheFlag(arguments: [String], flag: String) async throws {
        let h = try CLIHarness()
        let (status, output) = try await h.run(["worker"] + arguments, timeout: .seconds(15))
        #expect(status == 64, "\(output)")
        #expect(output.contains(flag), "\(output)")
    }

    @Test func aHugeDurationIsAUsageErrorNamingTheOption() async throws {
        let h = try CLIHarness()
        let (status, output) = try await h.run(["health-check", "--max-latency", "1e300d"])
        #expect(status == 64, "\(output)")
        #expect(output.contains("--max-latency '1e300d' is not a duration"), "\(output)")
    }
}
