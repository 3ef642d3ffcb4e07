import Foundation
import HoopoeCore
import HoopoeJobs
import Testing
import TestSupport

/// jobs/samples/ for the reminder jobs decode with the handlers' payload types (the schemas are checked against the
/// samples by DomainJobsDocumentationTests).
@Suite("Reminders: samples")
struct ReminderSamplesTests {
    private func sample<T: Decodable>(_ type: String, as: T.Type) throws -> T {
        let data = try Data(contentsOf: BuiltProducts.projectRoot.appendingPathComponent("jobs/samples/\(type).json"))
        return try JSONDecoder().decode(T.self, from: data)
    }

    @Test("every reminder sample decodes with its handler's payload type")
    func samplesDecode() throws {
        let upsert = try sample(SubscriptionUpsertJob.type, as: SubscriptionUpsertJob.Payload.self)
        #expect(upsert.userID.value == "42")
        #expect(try upsert.expiresAt.resolve(in: .tehran).get() == tehranDayEnd(2024, 12, 15))
        #expect(upsert.email == "sara@example.com")
        #expect(try sample(SubscriptionDeleteJob.type, as: SubscriptionDeleteJob.Payload.self).userID.value == "42")
        #expect(try sample(ExpirationReminderJob.type, as: ReminderTick.self).tick == 1_734_244_200)
        #expect(try sample(LowCreditReminderJob.type, as: ReminderTick.self).tick == 1_734_244_200)
        let set = try sample(CreditThresholdSetJob.type, as: CreditThresholdSetJob.Payload.self)
        #expect(set.thresholdID.value == "7" && set.threshold == 500 && set.authKey != nil)
        #expect(try sample(CreditThresholdDeleteJob.type, as: CreditThresholdDeleteJob.Payload.self).thresholdID.value == "7")
        #expect(try sample(CreditBalanceJob.type, as: CreditBalanceJob.Payload.self).credits == 320)
    }

    @Test("settings: defaults, and a bad value names its variable")
    func settings() throws {
        let defaults = try ReminderSettings(environment: EnvironmentReader([:]))
        #expect(defaults.offsetsDays == [10, 3, 1, 0])
        #expect(defaults.smsQueue == "default")
        #expect(defaults.brevoRequestsPerHour == 60, "below Brevo's 100 an hour, leaving room for sendinblue.register")
        #expect(defaults.receiptBaseURL == nil)
        let custom = try ReminderSettings(environment: EnvironmentReader([
            "REMINDER_OFFSETS_DAYS": "1, 7,1", "RECEIPT_BASE_URL": "https://kamva.ir/email/receipt/",
        ]))
        #expect(custom.offsetsDays == [7, 1])
        #expect(custom.receiptBaseURL == "https://kamva.ir/email/receipt")
        for (key, value) in [("REMINDER_OFFSETS_DAYS", "ten"), ("RECEIPT_BASE_URL", "kamva.ir"), ("BREVO_BALANCE_REQUESTS_PER_HOUR", "-1"),
                             ("REMINDER_SMS_QUEUE", "a queue"), ("BREVO_BALANCE_CREDITS", "gold"),
                             // Names the engine refuses, which the worker's own check let through (every sweep then failed).
                             ("REMINDER_SMS_QUEUE", ".sms"), ("REMINDER_SMS_QUEUE", "sms..hi"), ("REMINDER_EMAIL_QUEUE", "پیامک"),
                             ("REMINDER_EMAIL_QUEUE", String(repeating: "q", count: 65))] {
            #expect { try ReminderSettings(environment: EnvironmentReader([key: value])) } throws: { ($0 as? ConfigurationError)?.key == key }
        }
    }
}
