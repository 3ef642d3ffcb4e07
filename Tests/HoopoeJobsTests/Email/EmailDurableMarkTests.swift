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
        let services = try ReplicaPair.services(harness, on: redis)
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

    /// The services of a handler run against the pair's primary, and the payload of `messageID`.
    static func services(_ harness: DomainHarness, _ redis: RedisClient) throws -> DomainServices {
        return try ReplicaPair.services(harness, on: redis)
    }

    static func payload(_ messageID: String) throws -> EmailSendPayload {
        try JSONDecoder().decode(EmailSendPayload.self, from: Data(EmailSendTests().payload(messageID).encoded()))
    }

    /// The take-back of an unconfirmed mark is one step (Lua/email_unmark_sending.lua): it was a read (`HMGET`) and then
    /// an `HDEL`, which deleted another run's mark when that run wrote it between the two. Seen on the primary with
    /// `MONITOR`: no `HDEL` of the record but from a script.
    @Test func anUnconfirmedMarkIsTakenBackInOneStep() async throws {
        let harness = try await DomainHarness(environment: EmailSendTests.environment)
        let (primary, replica) = try await ReplicaPair.start()
        defer { replica.thaw() }
        let redis = try ReplicaPair.client(primary)
        defer { redis.close() }
        let services = try Self.services(harness, redis)
        let monitor = try ChildProcess(
            ["/usr/bin/redis-cli", "/usr/local/bin/redis-cli"].first { FileManager.default.isExecutableFile(atPath: $0) } ?? "redis-cli",
            ["-p", String(primary.port), "monitor"])
        defer { monitor.signal(SIGTERM) }
        try #require(try await eventually(timeout: .seconds(10)) { monitor.output.contains("OK") }, "MONITOR did not start: \(monitor.output)")

        replica.freeze()
        let unconfirmed = try await harness.failure(of: EmailSendJob(services: services), try Self.payload("one-step"), id: "job-one-step", maxAttempts: 12)
        guard case .retry? = unconfirmed?.disposition else { Issue.record("\(String(describing: unconfirmed))"); return }
        #expect(try await EmailLedger(services: services).record("one-step").state == nil, "the mark is taken back")
        let key = "\(harness.namespace):{email}:msg:one-step"
        var lines: [Substring] = []
        _ = try await eventually(timeout: .seconds(5)) {
            lines = monitor.output.split(separator: "\n").filter { $0.contains(key) }
            return lines.contains { $0.contains("\"HDEL\"") }
        }
        #expect(lines.contains { $0.contains("\"EVALSHA\"") || $0.contains("\"EVAL\"") }, "\(lines)")
        #expect(lines.contains { $0.contains("\"HDEL\"") && $0.contains("lua]") }, "\(lines)")
        #expect(!lines.contains { ($0.contains("\"HDEL\"") || $0.contains("\"HMGET\"")) && !$0.contains("lua]") }, "a take-back in two commands: \(lines)")
    }

    /// A new idempotency window (the look-up found no trace of the last one) waits for the replica too: lost in a
    /// failover, the replicas kept the old window's start, and the run just after the request asked Brevo's events
    /// report first, which may not list it yet, and sent the email again. Unconfirmed, the old start is put back and
    /// nothing is sent.
    @Test func anUnconfirmedNewWindowSendsNothingAndPutsTheOldOneBack() async throws {
        let harness = try await DomainHarness(environment: EmailSendTests.environment)
        let (primary, replica) = try await ReplicaPair.start()
        defer { replica.thaw() }
        let redis = try ReplicaPair.client(primary)
        defer { redis.close() }
        let services = try Self.services(harness, redis)
        let key = "\(harness.namespace):{email}:msg:new-window"
        // A request whose answer was lost 14 minutes ago: past the idempotency window, and Brevo lists no such email.
        let old = String(Date().timeIntervalSince1970 - 14 * 60)
        try await redis.send("HSET", key, "state", "sending", "first_try", old)

        replica.freeze()
        let unconfirmed = try await harness.failure(of: EmailSendJob(services: services), try Self.payload("new-window"), id: "job-window", maxAttempts: 12)
        guard case .retry? = unconfirmed?.disposition else { Issue.record("\(String(describing: unconfirmed))"); return }
        #expect(unconfirmed?.message.contains("not sent") == true, "\(String(describing: unconfirmed))")
        #expect(await harness.control.requests(to: .brevoSendEmail).isEmpty, "sent before the replica confirmed the new window")
        #expect(try await redis.send("HMGET", key, "state", "first_try").array?.map(\.string) == ["sending", old], "the old window is put back")
    }

    /// The sent record waits for the replica too (as sms.send's, decision 0115): lost in a failover, the run after it
    /// must find the email in Brevo's events. Unconfirmed, the email went: logged, and the job ends sent.
    @Test func anUnconfirmedSentRecordIsSaidAndTheJobEndsSent() async throws {
        let harness = try await DomainHarness(environment: EmailSendTests.environment)
        let (primary, replica) = try await ReplicaPair.start()
        defer { replica.thaw() }
        let redis = try ReplicaPair.client(primary)
        defer { redis.close() }
        let services = try Self.services(harness, redis)
        // A mark the replica confirmed a minute ago, within the idempotency window: this run sends with the key at once.
        let key = "\(harness.namespace):{email}:msg:sent-record"
        try await redis.send(RedisCommand("HSET", key, "state", "sending", "first_try", String(Date().timeIntervalSince1970 - 60)), durable: true)

        replica.freeze()
        let log = CapturedLog()
        let context = JobContext(id: "job-sent", type: EmailSendJob.type, attempt: 1, maxAttempts: 12, logger: log.logger, jobs: harness.jobs)
        try await EmailSendJob(services: services).run(try Self.payload("sent-record"), context: context)
        #expect(await harness.control.requests(to: .brevoSendEmail).count == 1)
        #expect(try await EmailLedger(services: services).record("sent-record").state == "sent")
        #expect(log.all.contains { $0.hasPrefix("warning") && $0.contains("too few replicas confirmed the record") }, "\(log.all)")
    }
}
