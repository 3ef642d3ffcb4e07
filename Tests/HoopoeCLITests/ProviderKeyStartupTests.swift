import Foundation
import TestSupport
import Testing

/// `hoopoe worker` with a provider key holding a line break inside stops start-up (exit 78) naming the variable, never
/// the key. (Its line end is dropped: HoopoeJobsTests' ProviderKeyTests send an SMS with one.)
@Suite struct ProviderKeyStartupTests {
    @Test(arguments: ["KAVENEGAR_API_KEY", "BREVO_API_KEY"])
    func aKeyWithALineBreakInsideStopsStartUp(variable: String) async throws {
        let h = try CLIHarness()
        let (status, output) = try await h.run(["worker"], environment: [variable: "secret-part\nsecret-rest\n"], timeout: .seconds(15))
        #expect(status == 78, "\(output)")
        #expect(output.contains("\(variable): the key holds a line break inside it"), "\(output)")
        #expect(!output.contains("secret-"), "no key in the output: \(output)")
    }

    @Test func smsQuietHoursOfEqualHoursStopsStartUp() async throws {
        let h = try CLIHarness()
        let (status, output) = try await h.run(["worker"], environment: ["SMS_QUIET_HOURS": "22-22"], timeout: .seconds(15))
        #expect(status == 78 && output.contains("SMS_QUIET_HOURS: 22-22 starts and ends at the same hour"), "\(output)")
    }
}
