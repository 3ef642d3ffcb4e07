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

@Suite("Domain configuration: values that end up in SMS tokens")
struct TokenConfigurationTests {
    @Test("a RECEIPT_BASE_URL Kavenegar would refuse in the reminder's link token stops start-up naming it", arguments: [
        "https://kamva.ir/email_receipt", "https://kamva.ir/a,b", "https://kamva.ir/" + String(repeating: "x", count: 90),
    ])
    func receiptBaseURL(_ value: String) {
        #expect {
            _ = try DomainSettings(environment: EnvironmentReader(["RECEIPT_BASE_URL": value]))
        } throws: { error in
            guard let error = error as? ConfigurationError else { return false }
            return error.key == "RECEIPT_BASE_URL" && error.message.contains("431")
        }
        #expect(throws: Never.self) { try DomainSettings(environment: EnvironmentReader(["RECEIPT_BASE_URL": "https://kamva.ir/email/receipt"])) }
    }

    @Test("REMINDER_EMAIL_TEMPLATE_ID: off when unset, a positive id, else a stop naming it")
    func emailTemplate() throws {
        #expect(try DomainSettings(environment: EnvironmentReader([:])).reminders.emailTemplateID == nil)
        #expect(try DomainSettings(environment: EnvironmentReader(["REMINDER_EMAIL_TEMPLATE_ID": "17"])).reminders.emailTemplateID == 17)
        for bad in ["0", "-3", "abc", "99999999999999999999"] {
            #expect {
                _ = try DomainSettings(environment: EnvironmentReader(["REMINDER_EMAIL_TEMPLATE_ID": bad]))
            } throws: { error in
                (error as? ConfigurationError)?.key == "REMINDER_EMAIL_TEMPLATE_ID"
            }
        }
    }
}
