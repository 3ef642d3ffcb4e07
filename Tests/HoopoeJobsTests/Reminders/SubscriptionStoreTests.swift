import Foundation
import HoopoeCore
import HoopoeJSON
import Redis
import Testing
import TestSupport

@testable import HoopoeJobs

/// A worker that dies between `reminders.upsert`/`reminders.delete` and the cancels of the jobs they handed back: the
/// job is retried, and the retry must still find those jobs. Before, the scripts removed the entries as they handed them
/// back, so the retry (`same`, or a delete of nothing) cancelled nothing and the old expiry's reminder went out.
@Suite("Reminders: the released jobs outlive a crash before their cancels", .serialized)
struct SubscriptionStoreTests {
    func subscription(_ user: String, expires: String, receipt: String) -> JSONValue {
        ["user_id": .string(user), "phone": "09121234567", "first_name": "Sara", "plan": 2, "expires_at": .string(expires),
         "receipt_id": .string(receipt)]
    }

    /// A harness where `user`'s offset-10 reminder of the 2024-12-15 expiry was released and waits.
    func released(_ user: String) async throws -> DomainHarness {
        let harness = try await DomainHarness(environment: reminderEnvironment)
        let services = try harness.services()
        try await harness.setClock(tehran(2024, 12, 5, 9))
        try await harness.run(SubscriptionUpsertJob(services: services), subscription(user, expires: "2024-12-15", receipt: "R-1"))
        try await harness.run(ExpirationReminderJob(services: services), ["tick": 1])
        #expect(try await harness.smsJobs().count == 1, "offset 10 released")
        return harness
    }

    @Test("a renewal retried after its script ran and its worker died cancels the old expiry's waiting SMS, then forgets it")
    func renewalRetriedAfterACrash() async throws {
        let harness = try await released("7")
        let services = try harness.services()
        let now = tehran(2024, 12, 5, 12)
        try await harness.setClock(now)
        let store = SubscriptionStore(services: services)
        // What the first attempt did before its process was killed: the script, not the cancels.
        let expiry = tehranDayEnd(2025, 1, 15)
        let plan = ExpirationSchedule(calendar: services.calendar, offsets: [10, 3, 1, 0]).plan(expiry: expiry, now: now)
        let first = try await store.upsert(
            .init(user: "7", expiresAt: Int64(expiry.timeIntervalSince1970), phone: "09121234567", firstName: "Sara", plan: "2",
                  receiptID: "R-2", email: ""),
            now: now, ttl: 86_400 * 80, reminders: plan.scheduled, jobID: "upsert-1")
        #expect(first.outcome == "renewed")
        #expect(first.toCancel.count == 1)
        // The retry: the same job, so the event says what its first run did (not `same`).
        try await harness.run(SubscriptionUpsertJob(services: services), subscription("7", expires: "2025-01-15", receipt: "R-2"), id: "upsert-1")
        #expect(try await harness.smsJobs().isEmpty, "the old expiry's waiting sms.send is cancelled by the retry")
        let retried = try #require(try await harness.events("subscription.upserted").last)
        #expect(retried.data["outcome"] == "renewed")
        #expect(retried.data["previous_expires_at"] != nil)
        #expect(retried.data["scheduled_offsets"] == [10, 3, 1, 0])
        #expect(retried.data["cancelled_jobs"] == 1)
        #expect(try await harness.redis.send("HLEN", store.releasedKey("7")).int == 0, "cancelled entries are forgotten")
        // A later call (another job) hands back nothing more, and finds the same expiry.
        try await harness.run(SubscriptionUpsertJob(services: services), subscription("7", expires: "2025-01-15", receipt: "R-2"))
        let later = try #require(try await harness.events("subscription.upserted").last)
        #expect(later.data["cancelled_jobs"] == 0)
        #expect(later.data["outcome"] == "same")
    }

    @Test("a delete retried after its script ran and its worker died cancels the waiting SMS, then forgets it")
    func deleteRetriedAfterACrash() async throws {
        let harness = try await released("8")
        let services = try harness.services()
        let store = SubscriptionStore(services: services)
        let first = try await store.delete("8", jobID: "delete-1")
        #expect(first.existed)
        #expect(first.dropped == 3, "offsets 3, 1 and 0 were pending")
        #expect(first.toCancel.count == 1)
        // The retry: the same job, so the event says what its first run found.
        try await harness.run(SubscriptionDeleteJob(services: services), ["user_id": "8"], id: "delete-1")
        #expect(try await harness.smsJobs().isEmpty, "the waiting sms.send is cancelled by the retry")
        let retried = try #require(try await harness.events("subscription.deleted").last)
        #expect(retried.data["existed"] == true)
        #expect(retried.data["dropped_reminders"]?.int64Value == Int64(first.dropped))
        #expect(retried.data["cancelled_jobs"] == 1)
        #expect(try await harness.redis.send("EXISTS", store.releasedKey("8")).int == 0, "cancelled entries are forgotten")
        // Another delete finds nothing.
        try await harness.run(SubscriptionDeleteJob(services: services), ["user_id": "8"])
        #expect(try await harness.events("subscription.deleted").last?.data["existed"] == false)
    }

    /// The first run cancelled the old expiry's job and forgot it, then its event write failed: the run again found
    /// nothing to cancel and said `cancelled_jobs: 0`. The count is kept on the record before the entries go.
    @Test("an upsert or a delete run again after its event write failed announces the jobs its first run cancelled", arguments: [false, true])
    func aRunAgainAnnouncesWhatItsFirstRunCancelled(deleting: Bool) async throws {
        let harness = try await released("10")
        let services = try harness.services()
        try await harness.setClock(tehran(2024, 12, 5, 12))
        let events = services.key("events")
        try await harness.redis.send("DEL", events)  // the stream of another type breaks the event write
        try await harness.redis.send("SET", events, "not a stream")
        let run: @Sendable (String) async throws -> Void = { id in
            if deleting {
                try await harness.run(SubscriptionDeleteJob(services: services), ["user_id": "10"], id: id)
            } else {
                try await harness.run(SubscriptionUpsertJob(services: services), self.subscription("10", expires: "2025-01-15", receipt: "R-2"), id: id)
            }
        }
        await #expect(throws: (any Error).self) { try await run("job-1") }
        #expect(try await harness.smsJobs().isEmpty, "the first run cancelled the waiting sms.send")
        try await harness.redis.send("DEL", events)
        try await run("job-1")
        let event = try #require(try await harness.events(deleting ? "subscription.deleted" : "subscription.upserted").last)
        #expect(event.data["cancelled_jobs"] == 1, "\(event.data)")
        #expect(event.data[deleting ? "existed" : "outcome"] == (deleting ? true : "renewed"))
        // Another job finds nothing more to cancel.
        try await run("job-2")
        #expect(try await harness.events(deleting ? "subscription.deleted" : "subscription.upserted").last?.data["cancelled_jobs"] == 0)
    }

    @Test("a renewal keeps the new expiry's released entries and hands back only the others")
    func renewalKeepsTheCurrentExpirysEntries() async throws {
        let harness = try await released("9")
        let services = try harness.services()
        let store = SubscriptionStore(services: services)
        try await harness.redis.send("HSET", store.releasedKey("9"), "\(Int64(tehranDayEnd(2025, 1, 15).timeIntervalSince1970))|10", "q|other")
        try await harness.setClock(tehran(2024, 12, 5, 12))
        try await harness.run(SubscriptionUpsertJob(services: services), subscription("9", expires: "2025-01-15", receipt: "R-2"))
        #expect(try await harness.smsJobs().isEmpty)
        let left = try await harness.redis.send("HGETALL", store.releasedKey("9")).hashFields
        #expect(left == ["\(Int64(tehranDayEnd(2025, 1, 15).timeIntervalSince1970))|10": "q|other"])
    }
}
