import Foundation
import HoopoeCore
import HoopoeJSON
@testable import HoopoeJobs
import Logging
import ProviderFakes
import Providers
import Redis
import TestSupport
import Testing

/// With `REDIS_WAIT_REPLICAS` (`waitReplicas = 1`), the SMS ledger's writes an at-most-once send rests on wait for a
/// real replica. A chaos run with Sentinel failovers saw a message sent twice: its send-under-way mark was written on
/// the primary only, the primary was demoted and resynced, and the run after the failover found neither `sent` nor the
/// mark. Here the replica is frozen (SIGSTOP: connected, answering nothing), so no `WAIT` counts it.
@Suite(.serialized) struct SMSDurableLedgerTests {
    let morning = SMSTest.tehran(2024, 11, 23, 10)

    /// The harness's domain services (its fakes and settings) on `redis` instead of the test Redis, with the domain
    /// clock set to 10:00 Tehran there.
    private func services(_ harness: DomainHarness, redis: RedisClient) async throws -> DomainServices {
        try await redis.send("SET", harness.clockKey, String(format: "%.3f", morning.timeIntervalSince1970))
        return try ReplicaPair.services(harness, on: redis)
    }

    /// At the last attempt, a lock the replica cannot confirm ends the message as every last attempt does: `failed`,
    /// one `sms.failed`, the job failed for good. Thrown as a retry there, it went to the dead set with no ledger state
    /// and no event (a service waiting for `sms.sent` or `sms.failed` heard nothing).
    @Test func anUnconfirmedLockAtTheLastAttemptGivesTheMessageUp() async throws {
        let harness = try await DomainHarness(environment: ["SMS_PROVIDERS": "kavenegar,ippanel"])
        let (primary, replica) = try await ReplicaPair.start()
        defer { replica.thaw() }
        let redis = try ReplicaPair.client(primary, waitReplicas: 1)
        defer { redis.close() }
        let services = try await services(harness, redis: redis)
        let ledger = SMSLedger(services: services)
        let payload = SMSTest.reminder("durable-last")

        replica.freeze()
        let failure = try await harness.failure(of: SMSSendJob(services: services), payload, id: "job-durable-last", attempt: 12, maxAttempts: 12)
        guard case .permanent? = failure?.disposition else { Issue.record("attempt 12: \(String(describing: failure))"); return }
        #expect(failure?.message.contains("not sent") == true, "\(String(describing: failure))")
        #expect(await harness.control.requests(to: .kavenegarLookup).count + harness.control.requests(to: .ippanelSend).count == 0)
        #expect(try await ledger.record(payload.messageID)?.state == "failed")
        let events = (try await redis.send("XRANGE", "\(harness.namespace):events", "-", "+").array ?? []).compactMap(Event.init(entry:))
        #expect(events.filter { $0.type == "sms.failed" }.count == 1, "\(events.map(\.type))")
    }

    /// The run that cannot have its lock confirmed by the replica sends nothing and retries (its lock given back, so
    /// the retry is not held off); once the replica is back, the message goes out exactly once, and the replica has
    /// `sent` the moment the run returns.
    @Test func aSendWaitsForTheReplicaAndGoesOutOnceWhenItIsBack() async throws {
        let harness = try await DomainHarness(environment: ["SMS_PROVIDERS": "kavenegar,ippanel"])
        let (primary, replica) = try await ReplicaPair.start()
        defer { replica.thaw() }  // before the servers stop: a frozen process would not take its SIGTERM
        let redis = try ReplicaPair.client(primary, waitReplicas: 1)
        defer { redis.close() }
        let services = try await services(harness, redis: redis)
        let ledger = SMSLedger(services: services)
        let payload = SMSTest.reminder("durable-send")
        let sends = { await harness.control.requests(to: .kavenegarLookup).count + harness.control.requests(to: .ippanelSend).count }

        replica.freeze()
        let unconfirmed = try await harness.failure(of: SMSSendJob(services: services), payload, id: "job-durable", attempt: 1, maxAttempts: 12)
        guard case .retry? = unconfirmed?.disposition else { Issue.record("attempt 1: \(String(describing: unconfirmed))"); return }
        #expect(unconfirmed?.message.contains("not sent") == true, "\(String(describing: unconfirmed))")
        #expect(await sends() == 0, "no provider is called before the replica confirms the ledger's writes")
        #expect(try await redis.send("EXISTS", ledger.lockKey(payload.messageID)).int == 0, "the unconfirmed lock is given back")
        let record = try await ledger.record(payload.messageID)
        #expect(record?.state == nil && record?.unknownOutcomes ?? 0 == 0 && record?.unreconciledProvider == nil, "\(String(describing: record))")

        replica.thaw()
        try #require(try await ReplicaPair.streaming(primary))
        #expect(try await harness.failure(of: SMSSendJob(services: services), payload, id: "job-durable", attempt: 2, maxAttempts: 12) == nil)
        #expect(await sends() == 1)
        let onReplica = SentinelGroup.client(port: replica.port)
        defer { onReplica.close() }
        #expect(try await onReplica.send("HGET", ledger.messageKey(payload.messageID), "state").string == "sent")
        // A run again (the ack lost, say) finds `sent`: nothing more goes out.
        #expect(try await harness.failure(of: SMSSendJob(services: services), payload, id: "job-durable", attempt: 3, maxAttempts: 12) == nil)
        #expect(await sends() == 1)
        #expect(try await ledger.record(payload.messageID)?.unknownOutcomes == 0)
    }

    /// The send-under-way mark the replica did not confirm: thrown (`notReplicated`), and taken back on the primary (no unknown
    /// outcome counted, no outbox to ask), so the retry sends as if the run had never begun. `sent` waits too.
    @Test func anUnconfirmedMarkIsTakenBackAndSentWaitsToo() async throws {
        let harness = try await DomainHarness()
        let (primary, replica) = try await ReplicaPair.start()
        defer { replica.thaw() }
        let redis = try ReplicaPair.client(primary, waitReplicas: 1)
        defer { redis.close() }
        let ledger = SMSLedger(services: try await services(harness, redis: redis))

        // A lost answer before, confirmed, whose outbox said it did not go out (cleared, still counted): the resend's
        // unconfirmed mark takes back only itself.
        #expect(try await ledger.noteUnknownOutcome("resent", provider: "kavenegar", attemptStartedAt: morning) == 1)
        try await ledger.clearUnreconciled("resent")
        replica.freeze()
        for id in ["durable-mark", "resent"] {
            let error = await #expect(throws: SMSLedgerNotReplicated.self) {
                _ = try await ledger.noteUnknownOutcome(id, provider: "ippanel", attemptStartedAt: morning.addingTimeInterval(60), template: "expiration_reminder")
            }
            #expect(error?.error.code == .notReplicated, "\(String(describing: error))")
        }
        let fresh = try await ledger.record("durable-mark")
        #expect(fresh?.unknownOutcomes ?? 0 == 0 && fresh?.unreconciledProvider == nil, "\(String(describing: fresh))")
        let resent = try await ledger.record("resent")
        #expect(resent?.unknownOutcomes == 1 && resent?.unreconciledProvider == nil, "\(String(describing: resent))")
        let error = await #expect(throws: SMSLedgerNotReplicated.self) {
            try await ledger.recordSent(messageID: "durable-mark", provider: "kavenegar", providerIDs: ["1"], sentAt: morning, userID: nil, purpose: nil)
        }
        #expect(error?.error.code == .notReplicated, "\(String(describing: error))")
    }

    /// Without `REDIS_WAIT_REPLICAS` nothing waits: a replica that answers nothing does not hold a send up.
    @Test func withoutWaitReplicasASendDoesNotWait() async throws {
        let harness = try await DomainHarness(environment: ["SMS_PROVIDERS": "kavenegar"])
        let (primary, replica) = try await ReplicaPair.start()
        defer { replica.thaw() }
        let redis = try ReplicaPair.client(primary, waitReplicas: 0)
        defer { redis.close() }
        let services = try await services(harness, redis: redis)
        replica.freeze()
        #expect(try await harness.failure(of: SMSSendJob(services: services), SMSTest.reminder("no-wait"), attempt: 1, maxAttempts: 12) == nil)
        #expect(await harness.control.requests(to: .kavenegarLookup).count == 1)
        #expect(try await SMSLedger(services: services).record("no-wait")?.state == "sent")
    }
}
