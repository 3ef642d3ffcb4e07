import Foundation
import HoopoeCore
import HoopoeJSON
import Redis
import Testing
import TestSupport

@testable import HoopoeJobs

/// A user's `{credit}:state:<user>` after their last threshold is deleted: it was kept for good (only its firing
/// counters left), one hash for every user who ever had a threshold. It now expires, later than any message id its
/// counters numbered is remembered, and a threshold saved before then keeps it, counting on.
@Suite("Reminders: the low-credit state's lifetime", .serialized)
struct CreditStateLifetimeTests {
    func threshold(_ user: String, _ id: String, _ value: Double) -> JSONValue {
        ["user_id": .string(user), "threshold_id": .string(id), "threshold": .double(value), "phone": "09121234567", "first_name": "Reza"]
    }

    @Test("after the last threshold is deleted the state expires within the bound; saved again it is kept and counts on")
    func theStateExpiresAfterTheLastThresholdAndCountsOnWhenSavedAgain() async throws {
        let harness = try await DomainHarness(environment: reminderEnvironment)
        let services = try harness.services()
        let state = services.key("{credit}:state:778")
        try await harness.setClock(tehran(2024, 12, 5, 10))
        try await harness.run(CreditThresholdSetJob(services: services), threshold("778", "11", 200))
        try await harness.run(CreditThresholdSetJob(services: services), threshold("778", "12", 50))
        try await harness.run(CreditBalanceJob(services: services), ["user_id": "778", "credits": 100])
        try await harness.run(LowCreditReminderJob(services: services), ["tick": 1])
        #expect(try await harness.smsJobs().compactMap { $0.payload["message_id"]?.stringValue } == ["reminder.low_credit:778:11:1"])

        // One of two deleted: the user still has a threshold, the state is kept.
        try await harness.run(CreditThresholdDeleteJob(services: services), ["user_id": "778", "threshold_id": "12"], id: "d-12")
        #expect(try await harness.redis.send("TTL", state).int == -1)

        // The last one deleted: only the counter is left, and it expires, after the SMS ledger forgets its message.
        try await harness.run(CreditThresholdDeleteJob(services: services), ["user_id": "778", "threshold_id": "11"], id: "d-11")
        #expect(try await harness.redis.send("SISMEMBER", services.key("{credit}:users"), "778").int == 0)
        let fields = try await harness.redis.send("HGETALL", state).array?.compactMap(\.string) ?? []
        #expect(fields == ["11:n", "1"])
        let bound = CreditThresholdStore.stateKeptAfterLastThreshold
        #expect(bound > SMSSettings.ledgerTTL)
        let ttl = try await harness.redis.send("TTL", state).int ?? -2
        #expect((bound - 60...bound).contains(ttl), "TTL \(ttl)")
        // A delete run again (or of an id never saved) does not put it off.
        try await harness.redis.send("EXPIRE", state, "1000")
        try await harness.run(CreditThresholdDeleteJob(services: services), ["user_id": "778", "threshold_id": "11"], id: "d-11b")
        #expect(try await harness.redis.send("TTL", state).int ?? -2 <= 1000)

        // Saved again within the window: kept for good again, and its next firing gets a new message id.
        try await harness.run(CreditThresholdSetJob(services: services), threshold("778", "11", 200))
        #expect(try await harness.redis.send("TTL", state).int == -1)
        try await harness.run(LowCreditReminderJob(services: services), ["tick": 2])
        #expect(try await harness.smsJobs().compactMap { $0.payload["message_id"]?.stringValue }.sorted()
                == ["reminder.low_credit:778:11:1", "reminder.low_credit:778:11:2"])
    }
}
