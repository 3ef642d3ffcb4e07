import Foundation
import HoopoeCore
import HoopoeJSON
import HoopoeJobs
import Redis
import Testing
import TestSupport

/// The findings of issue 16 on expiration reminders: a subscription upserted after its offset's sweep, date-only
/// expiries, and receipt links Kavenegar would refuse.
@Suite("Reminders: late upserts, date-only expiries, receipt token rules", .serialized)
struct LateReminderTests {
    func subscription(_ user: String, expires: JSONValue, receipt: String = "R-1") -> JSONValue {
        ["user_id": .string(user), "phone": "09121234567", "first_name": "Sara", "expires_at": expires, "receipt_id": .string(receipt)]
    }

    @Test("expiring tomorrow, upserted at 10:00 after the day's sweep: the 1-day SMS goes out at once, then the 0-day one")
    func lateUpsertGetsTheMissedReminder() async throws {
        let harness = try await DomainHarness(environment: reminderEnvironment)
        let services = try harness.services()
        let sweep = ExpirationReminderJob(services: services)
        try await harness.setClock(tehran(2024, 12, 14, 9))
        try await harness.run(sweep, ["tick": 1])  // the day's sweep, before the subscription exists
        try await harness.setClock(tehran(2024, 12, 14, 10))
        try await harness.run(SubscriptionUpsertJob(services: services), subscription("t1", expires: "2024-12-15"))
        let now = try await harness.smsJobs()
        #expect(now.map { $0.payload["tokens"]?["token"] } == ["1"], "the 1-day reminder, released by the upsert")
        #expect(try await harness.events("reminder.queued").map { $0.data["offset"] } == [1])
        // A repeated upsert (a retry) sends nothing more.
        try await harness.run(SubscriptionUpsertJob(services: services), subscription("t1", expires: "2024-12-15"))
        try await harness.run(sweep, ["tick": 2])
        #expect(try await harness.smsJobs().count == 1)
        try await harness.setClock(tehran(2024, 12, 15, 9))
        try await harness.run(sweep, ["tick": 3])
        let all = try await harness.smsJobs().compactMap { $0.payload["tokens"]?["token"]?.stringValue }
        #expect(all.sorted() == ["0", "1"])
        #expect(try await harness.events("reminder.skipped").isEmpty)
    }

    @Test("a late upsert whose release failed after its claim releases it when retried, not at the next day's sweep")
    func lateUpsertRetriedAfterAFailedRelease() async throws {
        let harness = try await DomainHarness(environment: reminderEnvironment)
        let services = try harness.services()
        try await harness.setClock(tehran(2024, 12, 14, 10))
        let stream = harness.jobs.keys(services.settings.reminders.smsQueue).stream
        try await harness.redis.send("SET", stream, "not a stream")
        await #expect(throws: (any Error).self) {
            try await harness.run(SubscriptionUpsertJob(services: services), subscription("t2", expires: "2024-12-15"), id: "upsert-1")
        }
        try await harness.redis.send("DEL", stream)
        try await harness.run(SubscriptionUpsertJob(services: services), subscription("t2", expires: "2024-12-15"), id: "upsert-1")
        #expect(try await harness.smsJobs().map { $0.payload["tokens"]?["token"] } == ["1"], "the 1-day reminder, released by the retry")
        #expect(try await harness.redis.send("ZCARD", services.key("{reminders}:claimed")).int == 0)
    }

    @Test("a late upsert inside quiet hours waits for the next sweep, which sends only the nearest offset with the days left then")
    func lateUpsertInQuietHours() async throws {
        let harness = try await DomainHarness(environment: reminderEnvironment)
        let services = try harness.services()
        try await harness.setClock(tehran(2024, 12, 14, 23))
        try await harness.run(SubscriptionUpsertJob(services: services), subscription("t2", expires: "2024-12-15"))
        #expect(try await harness.smsJobs().isEmpty, "nothing is released at 23:00")
        try await harness.setClock(tehran(2024, 12, 15, 9))
        try await harness.run(ExpirationReminderJob(services: services), ["tick": 1])
        let jobs = try await harness.smsJobs()
        #expect(jobs.map { $0.payload["tokens"]?["token"] } == ["0"])
        #expect(try await harness.events("reminder.skipped").map { $0.data["reason"] } == ["superseded"])
    }

    @Test("a date-only expiry is the end of that Tehran day: its 0-day SMS (09:00) comes before the expiry, and no reminder comes after an expiry")
    func dateOnlyExpiryIsEndOfDay() async throws {
        let harness = try await DomainHarness(environment: reminderEnvironment)
        let services = try harness.services()
        try await harness.setClock(tehran(2024, 12, 1, 12))
        try await harness.run(SubscriptionUpsertJob(services: services), subscription("d1", expires: "2024-12-15"))
        try await harness.run(SubscriptionUpsertJob(services: services), subscription("d2", expires: "2024-12-15T05:00:00+03:30"))
        let upserts = try await harness.events("subscription.upserted")
        #expect(upserts.first?.data["expires_at"] == .integer(Int64(tehranDayEnd(2024, 12, 15).timeIntervalSince1970)))
        try await harness.setClock(tehran(2024, 12, 15, 9))
        try await harness.run(ExpirationReminderJob(services: services), ["tick": 1])
        let jobs = try await harness.smsJobs()
        #expect(jobs.map { $0.payload["user_id"] } == ["d1"])
        #expect(jobs.first?.payload["tokens"]?["token"] == "0")
        #expect(jobs.first?.payload["tokens"]?["token2"] == "1403/09/25")
        // d2 ended at 05:00: none of its reminders (all due by now: no sweep ran since Dec 1) is sent after the end.
        let skipped = try await harness.events("reminder.skipped").filter { $0.data["user_id"] == "d2" }
        #expect(skipped.map { $0.data["reason"] } == ["expired", "expired", "expired", "expired"])
    }

    @Test("a receipt_id that would make Kavenegar refuse the link token (431) is refused on arrival, with the reason")
    func receiptIDTokenRules() async throws {
        let harness = try await DomainHarness(environment: reminderEnvironment)
        let services = try harness.services()
        try await harness.setClock(tehran(2024, 12, 1, 12))
        for receipt in ["R_1", "R 1", "R,1", "R|1"] {
            do {
                try await harness.run(SubscriptionUpsertJob(services: services), subscription("r1", expires: "2024-12-15", receipt: receipt))
                Issue.record("accepted receipt_id \(receipt)")
            } catch let failure as JobFailure {
                #expect(failure.disposition == .permanent)
                #expect(failure.message.contains("receipt_id") && failure.message.contains("431"), "\(failure.message)")
            }
        }
        #expect(try await harness.events("subscription.upserted").isEmpty)
        // A base URL long enough that base + "/" + a 64-character id passes 100 characters: refused with the rule named.
        var settings = services.settings
        settings.reminders.receiptBaseURL = "https://kamva.ir/" + String(repeating: "a", count: 40)
        let long = DomainServices(jobs: services.jobs, events: services.events, clock: services.clock, calendar: services.calendar,
                                  providers: services.providers, settings: settings)
        do {
            try await harness.run(SubscriptionUpsertJob(services: long), subscription("r2", expires: "2024-12-15", receipt: String(repeating: "9", count: 64)))
            Issue.record("accepted a 122-character link")
        } catch let failure as JobFailure {
            #expect(failure.message.contains("longer than 100"), "\(failure.message)")
        }
    }
}
