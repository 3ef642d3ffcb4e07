import Foundation
import HoopoeCore
import HoopoeJSON
import HoopoeJobs
import Redis
import TestSupport
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

    @Test("SMS_PROVIDERS naming only providers without a key is warned about at start-up")
    func providersWithoutKeys() throws {
        let keyless = try DomainSettings(environment: EnvironmentReader(["SMS_PROVIDERS": "ippanel", "KAVENEGAR_API_KEY": "k"]))
        #expect(DomainJobs.startupWarnings(keyless).contains { $0.contains("SMS_PROVIDERS=ippanel names no provider whose API key is set") })
        let usable = try DomainSettings(environment: EnvironmentReader(["SMS_PROVIDERS": "ippanel,kavenegar", "KAVENEGAR_API_KEY": "k"]))
        #expect(!DomainJobs.startupWarnings(usable).contains { $0.contains("SMS_PROVIDERS") || $0.contains("no SMS provider") }, "\(DomainJobs.startupWarnings(usable))")
    }

    @Test("IPPanel on with the shipped templates' placeholder pattern codes is warned about at start-up")
    func placeholderPatternCodes() throws {
        let shipped = BuiltProducts.projectRoot.appendingPathComponent("jobs/sms_templates.yaml").path
        let environment = ["SMS_TEMPLATES_FILE": shipped, "IPPANEL_API_KEY": "k", "IPPANEL_FROM_NUMBER": "+983000505"]
        let warnings = DomainJobs.startupWarnings(try DomainSettings(environment: EnvironmentReader(environment)))
        #expect(warnings.contains { $0.contains("placeholder IPPanel pattern codes (expiration_reminder,") }, "\(warnings)")
        let kavenegarOnly = DomainJobs.startupWarnings(try DomainSettings(environment: EnvironmentReader(["SMS_TEMPLATES_FILE": shipped, "KAVENEGAR_API_KEY": "k"])))
        #expect(!kavenegarOnly.contains { $0.contains("placeholder") })
    }

    @Test("a bad value stops start-up with an error naming its variable", arguments: [
        (["HOOPOE_TIME_ZONE": "Mars/Olympus"], "HOOPOE_TIME_ZONE"),
        (["KAVENEGAR_API_KEY": "k", "KAVENEGAR_BASE_URL": "ftp://x"], "KAVENEGAR_BASE_URL"),
        (["IPPANEL_API_KEY": "k"], "IPPANEL_FROM_NUMBER"),
        (["IPPANEL_API_KEY": "k", "IPPANEL_FROM_NUMBER": "3000505"], "IPPANEL_FROM_NUMBER"),
        (["IPPANEL_API_KEY": "k", "IPPANEL_FROM_NUMBER": "983000505"], "IPPANEL_FROM_NUMBER"),
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
        // 80 characters: with a Kingfisher receipt id (24) the link is 105; the check with a 1-character id passed it.
        "https://kamva.ir/" + String(repeating: "x", count: 63),
    ])
    func receiptBaseURL(_ value: String) {
        #expect {
            _ = try DomainSettings(environment: EnvironmentReader(["RECEIPT_BASE_URL": value]))
        } throws: { error in
            guard let error = error as? ConfigurationError else { return false }
            return error.key == "RECEIPT_BASE_URL" && error.message.contains("431")
        }
        #expect(throws: Never.self) { try DomainSettings(environment: EnvironmentReader(["RECEIPT_BASE_URL": "https://kamva.ir/email/receipt"])) }
        // 75 characters: the link with a 24-character id is 100, Kavenegar's limit.
        #expect(throws: Never.self) { try DomainSettings(environment: EnvironmentReader(["RECEIPT_BASE_URL": "https://kamva.ir/" + String(repeating: "x", count: 58)])) }
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

@Suite("Domain inputs that must never trap the worker")
struct TrapTests {
    @Test("REGISTRATION_STATUS_POLL_SECONDS beyond a minute (1e300 would overflow the sleep) stops start-up naming it")
    func pollSeconds() {
        for bad in ["1e300", "61"] {
            #expect {
                _ = try DomainSettings(environment: EnvironmentReader(["REGISTRATION_STATUS_POLL_SECONDS": bad]))
            } throws: { error in
                (error as? ConfigurationError)?.key == "REGISTRATION_STATUS_POLL_SECONDS"
            }
        }
    }

    @Test("a simulated clock holding 1e308 (or nonsense) reads as the system time, not as a date that traps day arithmetic")
    func implausibleClock() async throws {
        let h = try await DomainHarness()
        let services = try h.services()
        for value in ["1e308", "-5", "inf"] {
            try await h.redis.send("SET", h.clockKey, value)
            let now = try await services.clock.now()
            #expect(abs(now.timeIntervalSinceNow) < 60, "\(value) → \(now)")
        }
    }

    @Test("freecredit.request with an amount past 10^9 fails for good instead of overflowing the Lua round trip")
    func hugeAmount() async throws {
        let h = try await DomainHarness()
        await #expect(throws: JobFailure.self) {
            try await h.run(FreeCreditRequestJob(services: try h.services()), ["user_id": 1, "request_id": "big", "amount": .integer(Int64.max)])
        }
        #expect(try await h.redis.send("EXISTS", "\(h.namespace):{freecredit}:result:big").int == 0)
    }
}
