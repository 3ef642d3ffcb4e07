import Foundation
import HoopoeJSON
import HoopoeJobs
import Redis
import Testing

/// An event of this test only.
struct TestHappened: DomainEvent {
    static let name = "test.happened"
    var n: Int
    var label: String
    enum CodingKeys: String, CodingKey, CaseIterable { case n, label = "name" }
}

/// An event with free text, as `sms.failed` and `provider.alert` have.
struct TestRefused: DomainEvent {
    static let name = "test.refused"
    var userID: String
    var reason: String
    var message: String
    enum CodingKeys: String, CodingKey, CaseIterable { case userID = "user_id", reason, message }
}

@Suite("Events stream")
struct EventLogTests {
    @Test("events are appended with type, JSON data and time, and the stream stays capped")
    func emitsAndCaps() async throws {
        let harness = try await DomainHarness()
        let log = EventLog(redis: harness.redis, namespace: harness.namespace, maxLength: 100)
        let at = Date(timeIntervalSince1970: 1_732_345_678.5)
        for index in 0..<1_000 {
            try await log.emit(TestHappened(n: index, label: "علی"), at: at)
        }
        let events = try await harness.events("test.happened")
        #expect(events.last?.data["n"] == .integer(999))
        #expect(events.last?.data["name"] == .string("علی"))
        #expect(events.last?.at == 1_732_345_678.5)
        // MAXLEN ~ trims whole macro nodes: near the cap, far below what was written.
        #expect(events.count >= 100 && events.count < 300)
    }

    /// A provider's refusal may quote the number or address it refused (IPPanel's `meta.errors`); other services read the
    /// stream, so its free text is masked as `job.dead`'s reason is. Ids stay as they are.
    @Test("free-text fields are written with phones and emails masked, ids untouched")
    func freeTextIsMasked() async throws {
        let harness = try await DomainHarness()
        let log = EventLog(redis: harness.redis, namespace: harness.namespace)
        try await log.emit(TestRefused(userID: "09121234567", reason: "receptor +989121234567 is invalid", message: "write to sara@example.com"), at: Date())
        let event = try #require(try await harness.events("test.refused").first)
        #expect(event.data["user_id"] == "09121234567", "an id as the caller gave it")
        let reason = event.data["reason"]?.stringValue ?? ""
        #expect(!reason.contains("9121234567") && reason.hasPrefix("receptor "), "\(reason)")
        let message = event.data["message"]?.stringValue ?? ""
        #expect(!message.contains("sara@example.com") && message.hasPrefix("write to "), "\(message)")
    }

    /// An alert whose event could not be written silenced its provider and code for an hour with no alert at all.
    @Test("an alert whose event failed is not silenced: the next call raises it")
    func aFailedAlertIsNotSilenced() async throws {
        let harness = try await DomainHarness()
        let alerts = ProviderAlerts(services: try harness.services())
        let events = "\(harness.namespace):events"
        try await harness.redis.send("SET", events, "not a stream")
        await #expect(throws: (any Error).self) { try await alerts.raise(provider: "kavenegar", code: "418", message: "credit", operation: "send") }
        try await harness.redis.send("DEL", events)
        #expect(try await alerts.raise(provider: "kavenegar", code: "418", message: "credit", operation: "send"))
        #expect(try await harness.events("provider.alert").count == 1)
        #expect(try await alerts.raise(provider: "kavenegar", code: "418", message: "credit", operation: "send") == false, "then silenced")
    }
}
