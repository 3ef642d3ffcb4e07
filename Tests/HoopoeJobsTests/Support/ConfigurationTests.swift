import Foundation
import HoopoeJobs
import Testing

@Suite("Domain configuration")
struct ConfigurationTests {
    @Test("defaults: no provider configured, Tehran time, no simulated clock")
    func defaults() throws {
        let settings = try DomainSettings(environment: EnvironmentReader([:]))
        #expect(settings.providers.kavenegar == nil && settings.providers.ippanel == nil && settings.providers.brevo == nil)
        #expect(settings.timeZone.identifier == "Asia/Tehran")
        #expect(settings.clockKey == nil)
        #expect(DomainJobs.startupWarnings(settings).contains { $0.contains("KAVENEGAR_API_KEY") })
    }

    @Test("a bad value stops start-up with an error naming its variable", arguments: [
        (["HOOPOE_TIME_ZONE": "Mars/Olympus"], "HOOPOE_TIME_ZONE"),
        (["KAVENEGAR_API_KEY": "k", "KAVENEGAR_BASE_URL": "ftp://x"], "KAVENEGAR_BASE_URL"),
        (["IPPANEL_API_KEY": "k"], "IPPANEL_FROM_NUMBER"),
        (["SMS_DRY_RUN": "perhaps"], "SMS_DRY_RUN"),
        (["HOOPOE_EVENTS_MAXLEN": "-5"], "HOOPOE_EVENTS_MAXLEN"),
    ])
    func badValues(environment: [String: String], key: String) {
        #expect {
            _ = try DomainSettings(environment: EnvironmentReader(environment))
        } throws: { error in
            (error as? ConfigurationError)?.key == key
        }
    }
}
