import Foundation
import HoopoeCore
import HoopoeJSON
import Testing
import TestSupport

@testable import HoopoeJobs

/// `reminders.low_credit` sweeps one at a time (``CreditThresholdStore/sweepLock``): a run enqueued by hand beside the
/// periodic one resolved the same Brevo auth keys twice, out of the one hourly budget.
@Suite("Reminders: one low-credit sweep at a time", .serialized)
struct LowCreditSweepLockTests {
    @Test("a run that finds another sweeping does nothing; one that finds its earlier attempt waits for its lock; the lock is freed after a sweep")
    func oneSweepAtATime() async throws {
        let harness = try await DomainHarness(environment: reminderEnvironment)
        let services = try harness.services()
        try await harness.setClock(tehran(2024, 12, 5, 10))
        let threshold: JSONValue = ["user_id": "u1", "threshold_id": "t1", "threshold": 100, "phone": "09121234567", "first_name": "Reza"]
        try await harness.run(CreditThresholdSetJob(services: services), threshold)
        try await harness.run(CreditBalanceJob(services: services), ["user_id": "u1", "credits": 40])
        let sweep = LowCreditReminderJob(services: services)
        let lock = CreditThresholdStore(services: services).sweepLock

        #expect(try await lock.take(holder: "other-job:1", for: .seconds(60)))
        #expect(try await harness.failure(of: sweep, ReminderTick(tick: 1), id: "job-2") == nil, "it ends, not retried")
        #expect(try await harness.smsJobs().isEmpty, "the other run covers this tick")
        try await lock.release(holder: "other-job:1")

        // Its own earlier attempt holds it (died or stalls): once, when that lock lapses.
        #expect(try await lock.take(holder: "job-3:1", for: .seconds(30)))
        let wait = try #require(try await harness.failure(of: sweep, ReminderTick(tick: 2), id: "job-3", attempt: 2)?.retryDelay)
        #expect((28...32).contains(wait), "\(wait)")
        #expect(try await harness.smsJobs().isEmpty)
        try await lock.release(holder: "job-3:1")

        #expect(try await harness.failure(of: sweep, ReminderTick(tick: 3), id: "job-4") == nil)
        #expect(try await harness.smsJobs().count == 1, "a free lock: the sweep ran")
        #expect(try await lock.holder() == nil, "and freed its lock")
    }
}
