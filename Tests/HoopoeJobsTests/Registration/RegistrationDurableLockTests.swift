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

/// With `REDIS_WAIT_REPLICAS` (`waitReplicas = 1`), `sendinblue.register`'s lock waits for a real replica, as sms.send's
/// does (SMSDurableLedgerTests): a lock a failover lost let a second run create or top up the child beside one still
/// working. Here the replica is frozen (SIGSTOP: connected, answering nothing), so no `WAIT` counts it.
@Suite(.serialized) struct RegistrationDurableLockTests {
    /// The run whose lock the replica cannot confirm asks nothing of Brevo and retries, the lock given back (the retry
    /// is not held off); once the replica is back the child is created exactly once.
    @Test func anUnconfirmedLockCallsNoBrevoAndTheChildIsCreatedOnceWhenTheReplicaIsBack() async throws {
        let harness = try await DomainHarness(environment: SendinblueRegisterEndToEndTests.fastRetries)
        let (primary, replica) = try await ReplicaPair.start()
        defer { replica.thaw() }  // before the servers stop: a frozen process would not take its SIGTERM
        let redis = try ReplicaPair.client(primary)
        defer { redis.close() }
        let services = try ReplicaPair.services(harness, on: redis)
        let json = SendinblueRegisterEndToEndTests.payload(user: "durable-user", email: "durable@example.com", password: "Pw-durable")
        let payload = try JSONDecoder().decode(SendinblueRegisterPayload.self, from: Data(json.encoded()))
        let brevoCalls = { await harness.control.requests().filter { $0.endpoint.rawValue.hasPrefix("brevo") }.count }

        replica.freeze()
        let unconfirmed = try await harness.failure(of: SendinblueRegisterJob(services: services), payload, id: "job-durable", attempt: 1, maxAttempts: 12)
        guard case .retry? = unconfirmed?.disposition else { Issue.record("attempt 1: \(String(describing: unconfirmed))"); return }
        #expect(unconfirmed?.message.contains("not registered yet") == true, "\(String(describing: unconfirmed))")
        #expect(await brevoCalls() == 0, "Brevo is not called before the replica confirms the lock")
        let lockKey = RegistrationStore(services: services, userID: "durable-user").lockKey
        #expect(try await redis.send("EXISTS", lockKey).int == 0, "the unconfirmed lock is given back")

        replica.thaw()
        try #require(try await ReplicaPair.streaming(primary))
        _ = try await harness.failure(of: SendinblueRegisterJob(services: services), payload, id: "job-durable", attempt: 2, maxAttempts: 12)
        #expect(await harness.control.requests(to: .brevoCreateChild).count == 1)
    }
}
