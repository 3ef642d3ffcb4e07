import Foundation
import HoopoeCore
import HoopoeJSON
import HoopoeJobs
import Providers
import TestSupport
import Testing

/// A provider key copied with its line end (a Kubernetes Secret made from a file, `echo key > file`, a CRLF env file)
/// is used without it; one with a line break or a space inside stops start-up naming the variable, never the key. The
/// worker started, then every request failed in the HTTP client with the whole key in its error (log, `job show`,
/// the retry's envelope), and Kavenegar's got 403 "API-Key invalid" on every SMS.
@Suite struct ProviderKeyTests {
    @Test(arguments: ["\n", "\r\n", " \t\n", "\n\n"])
    func aKeyWithItsLineEndIsUsedWithout(end: String) throws {
        let settings = try ProviderSettings(environment: EnvironmentReader([
            "KAVENEGAR_API_KEY": "kave-key" + end, "IPPANEL_API_KEY": "\n ippanel-key" + end, "IPPANEL_FROM_NUMBER": "+983000505",
            "BREVO_API_KEY": "xkeysib-brevo" + end, "BREVO_PARTNER_KEY": "partner" + end,
        ]))
        #expect(settings.kavenegar?.apiKey == "kave-key")
        #expect(settings.ippanel?.apiKey == "ippanel-key")
        #expect(settings.brevo?.apiKey == "xkeysib-brevo")
        #expect(settings.brevo?.partnerKey == "partner")
    }

    @Test func aKeyOfOnlyALineEndIsUnset() throws {
        let settings = try ProviderSettings(environment: EnvironmentReader(["KAVENEGAR_API_KEY": "\n", "BREVO_API_KEY": "xkeysib-b", "BREVO_PARTNER_KEY": "\r\n"]))
        #expect(settings.kavenegar == nil)
        #expect(settings.brevo?.partnerKey == nil)
    }

    @Test(arguments: [
        ("KAVENEGAR_API_KEY", "kave\nsecret-key", "a line break"), ("IPPANEL_API_KEY", "ippanel secret-key", "a space"),
        ("BREVO_API_KEY", "xkeysib-\rsecret-key", "a line break"), ("BREVO_PARTNER_KEY", "partner\u{7}secret-key", "a control character"),
    ])
    func aKeyWithABreakInsideStopsStartUpNamingTheVariable(variable: String, value: String, what: String) {
        var environment = ["IPPANEL_FROM_NUMBER": "+983000505", "BREVO_API_KEY": "xkeysib-b"]
        environment[variable] = value
        #expect(performing: { try ProviderSettings(environment: EnvironmentReader(environment)) }, throws: { error in
            guard let error = error as? ConfigurationError else { return false }
            return error.key == variable && error.message.contains(what) && !"\(error)".contains("secret-key")
        })
    }

    /// The worker itself, against the fake Kavenegar (which answers 403 to any other key): an SMS goes out with the
    /// key's line end dropped.
    @Test func theWorkerSendsWithAKeyThatEndedInALineBreak() async throws {
        let harness = try await DomainHarness(environment: ["KAVENEGAR_API_KEY": "fake-kavenegar-key\n"])
        try await harness.setClock(SMSTest.tehran(2024, 11, 23, 10))
        let worker = try await harness.startWorker()
        try await SMSTest.reminder().enqueue(on: harness.jobs)
        let sent = try #require(try await harness.waitForEvents("sms.sent").first).data
        #expect(sent["provider"]?.stringValue == "kavenegar")
        await SMSTest.stop(worker)
    }
}
