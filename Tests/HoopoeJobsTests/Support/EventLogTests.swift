import Foundation
import HoopoeJSON
import HoopoeJobs
import Testing

/// An event of this test only.
struct TestHappened: DomainEvent {
    static let name = "test.happened"
    var n: Int
    var label: String
    enum CodingKeys: String, CodingKey, CaseIterable { case n, label = "name" }
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
}
