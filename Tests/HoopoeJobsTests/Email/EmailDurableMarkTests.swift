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

/// With `REDIS_WAIT_REPLICAS` (`waitReplicas = 1`), `email.send`'s send-under-way mark waits for a real replica, as
/// sms.send's does (SMSDurableLedgerTests): a mark a failover lost let a run after the idempotency key's life send the
/// email again. Here the replica is frozen (SIGSTOP: connected, answering nothing), so no `WAIT` counts it.
@Suite(.serialized) struct EmailDurableMarkTests {
    /// The run whose mark the replica cannot confirm asks nothing of Brevo and retries, its mark taken back; once the
    /// replica is back the email goes out exactly once, and the replica holds the mark.
    @Test func anUnconfirmedMarkSendsNothingAndTheEmailGoesOutOnceWhenTheReplicaIsBack() async throws {
        let harness = try await DomainHarness(environment: EmailSendTests.environment)
        let (primary, replica) = try await ReplicaPair.start()
        defer { replica.thaw() }  // before the servers stop: a frozen process would not take its SIGTERM
        let redis = try ReplicaPair.client(primary)
        defer { redis.close() }
        let settings = try DomainSettings(environment: EnvironmentReader(try harness.baseEnvironment))
        let services = DomainJobs.services(
            settings: settings, jobs: JobQueue(redis: redis, namespace: harness.namespace), httpClient: ProviderHTTPClient(harness.httpClient),
            logger: Logger(label: "test.providers"))
        let payload = try JSONDecoder().decode(EmailSendPayload.self, from: Data(EmailSendTests().payload("durable-email").encoded()))
        let ledger = EmailLedger(services: services)

        replica.freeze()
        let unconfirmed = try await harness.failure(of: EmailSendJob(services: services), payload, id: "job-durable", attempt: 1, maxAttempts: 12)
        guard case .retry? = unconfirmed?.disposition else { Issue.record("attempt 1: \(String(describing: unconfirmed))"); return }
        #expect(unconfirmed?.message.contains("not sent") == true, "\(String(describing: unconfirmed))")
        #expect(await harness.control.requests(to: .brevoSendEmail).isEmpty, "Brevo is not called before the replica confirms the mark")
        let taken = try await ledger.record("durable-email")
        #expect(taken.state == nil && taken.firstTry == nil, "the unconfirmed mark is taken back: \(taken)")

        replica.thaw()
        try #require(try await ReplicaPair.streaming(primary))
        #expect(try await harness.failure(of: EmailSendJob(services: services), payload, id: "job-durable", attempt: 2, maxAttempts: 12) == nil)
        #expect(await harness.control.requests(to: .brevoSendEmail).count == 1)
        #expect(try await ledger.record("durable-email").state == "sent")
    }
}
