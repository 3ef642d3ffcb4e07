import Foundation
import HoopoeCore
import HoopoeJSON
@testable import HoopoeJobs
import Redis
import Testing
import TestSupport

/// `reminder.queued`'s `threshold_id` is null when the outbox entry it drains names no threshold (`OrNull` in
/// ReminderEvents.swift): jobs/EVENTS.md listed it as a string, and a consumer decoding it as one failed on it.
@Suite("jobs/EVENTS.md: fields that may be null", .serialized)
struct EventsNullFieldsTests {
    @Test("a low-credit reminder drained from an entry without threshold_id is announced with null, as the page says")
    func reminderQueuedWithoutAThresholdID() async throws {
        let h = try await DomainHarness(environment: reminderEnvironment)
        let services = try h.services()
        try await h.setClock(tehran(2024, 12, 5, 10))
        let entry: JSONValue = ["message_id": "reminder.low_credit:u9:t:1", "user_id": "u9", "threshold": "100", "balance": "5",
                                "phone": "09121234567", "first_name": "Reza"]
        try await h.redis.send("HSET", services.key("{credit}:outbox"), "reminder.low_credit:u9:t:1", String(decoding: entry.encoded(), as: UTF8.self))
        try await h.run(LowCreditReminderJob(services: services), ["tick": 1])
        let queued = try #require(try await h.events("reminder.queued").first)
        #expect(queued.data["threshold_id"] == .null, "\(queued.data)")

        let allowed = try EventsDocumentationTests.documentedFields()["reminder.queued"]?["threshold_id"] ?? []
        #expect(allowed == ["string", "null"], "jobs/EVENTS.md says reminder.queued's threshold_id is \(allowed.sorted())")
    }
}
