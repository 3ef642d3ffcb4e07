import Foundation
import HoopoeCore
import HoopoeJSON
import HoopoeJobs
import ProviderFakes
import Providers
import Redis
import TestSupport
import Testing

/// A Kavenegar `verify/lookup` whose answer is lost (it has no `localid`): before the one re-send, `sms.send` asks
/// Kavenegar's outbox (`sms/selectoutbox`, seed 002) whether it went out.
@Suite(.serialized) struct SMSKavenegarReconcileTests {
    let morning = SMSTest.tehran(2024, 11, 23, 10)
    static let environment = ["SMS_PROVIDERS": "kavenegar", "SMS_UNKNOWN_OUTCOME_RETRY_SECONDS": "1"]

    /// The lookup went out, then the connection dropped: found in the outbox, recorded with its id, never re-sent —
    /// though the same number got another SMS just after (told apart by its tokens) and another number one before.
    @Test func itWasSentSoItIsNotSentAgain() async throws {
        let harness = try await DomainHarness(environment: Self.environment)
        try await harness.setClock(morning)
        let client = try #require(try harness.services().providers.kavenegar)
        _ = try await client.lookup(KavenegarLookup(receptor: "09351112233", template: "low-credit", token: "50", token2: "100", token10: "Reza"))
        await harness.control.enqueue(.succeedThenDrop, for: .kavenegarLookup)
        let worker = try await harness.startWorker()
        try await SMSTest.reminder().enqueue(on: harness.jobs)
        #expect(try await eventually(timeout: .seconds(20)) { await harness.control.requests(to: .kavenegarLookup).count == 2 })
        let newer = try #require(try await client.lookup(
            KavenegarLookup(receptor: "09121234567", template: "low-credit", token: "50", token2: "100", token10: "Sara Ahmadi")).first)

        let sent = try #require(try await harness.waitForEvents("sms.sent").first).data
        #expect(sent["provider"]?.stringValue == "kavenegar")
        #expect(await harness.control.requests(to: .kavenegarLookup).count == 3)  // the other number's, ours once, the newer one
        #expect(await harness.control.kavenegarMessageCount() == 3)
        #expect(await harness.control.requests(to: .kavenegarSelectOutbox).count >= 1)
        let ids = sent["provider_message_ids"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(ids == [String(newer.messageID - 1)], "the lost lookup's message, not the newer one to the same number")
        let record = try await SMSLedger(services: harness.services()).record(SMSTest.reminder().messageID)
        #expect(record?.state == "sent" && record?.providerIDs == ids)
        #expect(try await harness.events("sms.failed").isEmpty)
        await SMSTest.stop(worker)
    }

    /// The lookup failed with a 502 and nothing reached the outbox: one re-send, one message.
    @Test func itWasNotSentSoItIsSentOnceMore() async throws {
        let harness = try await DomainHarness(environment: Self.environment)
        try await harness.setClock(morning)
        await harness.control.enqueue(.reply(.text(502, "<html>bad gateway</html>")), for: .kavenegarLookup)
        let worker = try await harness.startWorker()
        try await SMSTest.reminder().enqueue(on: harness.jobs)

        let sent = try #require(try await harness.waitForEvents("sms.sent").first).data
        #expect(sent["provider"]?.stringValue == "kavenegar")
        #expect(await harness.control.requests(to: .kavenegarLookup).count == 2)
        #expect(await harness.control.kavenegarMessageCount() == 1)
        let checks = await SMSTest.forms(harness, .kavenegarSelectOutbox)
        #expect(checks.count == 1)
        // From a minute before the lost attempt to now, or to the end of its time to be sent (its total timeout and a
        // minute) when that came first: an explicit end, so a full page can be halved.
        let start = try #require(Int64(checks.first?["startdate"] ?? ""))
        let end = try #require(Int64(checks.first?["enddate"] ?? ""))
        #expect((60...136).contains(end - start), "\(start)...\(end)")
        await SMSTest.stop(worker)
    }

    /// A sweep sent 520 other SMS in the seconds before the lost lookup: the outbox answers 500 rows at most, oldest
    /// first, without ours. A full page is not "not sent": the window is halved until the lookup is found, and it is
    /// not sent again. (Two bursts a few seconds apart: the fake sends faster than any account may, and a second
    /// holding a full page cannot be read whole.)
    @Test func aFullOutboxPageIsSearchedByHalvesNotReadAsNotSent() async throws {
        let harness = try await DomainHarness(environment: Self.environment)
        try await harness.setClock(morning)
        let client = try #require(try harness.services().providers.kavenegar)
        for index in 0..<520 {
            if index == 300 { try await Task.sleep(for: .milliseconds(2500)) }
            _ = try await client.lookup(KavenegarLookup(receptor: String(format: "0935%07d", index), template: "low-credit", token: "50", token2: "100", token10: "Reza"))
        }
        try await Task.sleep(for: .milliseconds(2500))
        await harness.control.enqueue(.succeedThenDrop, for: .kavenegarLookup)
        let worker = try await harness.startWorker()
        try await SMSTest.reminder().enqueue(on: harness.jobs)

        let sent = try #require(try await harness.waitForEvents("sms.sent", timeout: .seconds(30)).first).data
        #expect(sent["provider"]?.stringValue == "kavenegar")
        #expect(await harness.control.kavenegarMessageCount() == 521, "not sent again")
        #expect(await harness.control.requests(to: .kavenegarSelectOutbox).count >= 2, "the window was halved")
        await SMSTest.stop(worker)
    }

    /// The worker is killed (`-9`) while Kavenegar holds the lookup it accepted: no answer came, no `catch` ran. The
    /// mark written before the send makes the run that recovers the job ask the outbox, which has the message: it is
    /// recorded as sent and not sent again. (The send lock is let lapse by hand: it lasts two minutes.)
    @Test func aWorkerKilledDuringTheSendIsReconciledNotSentAgain() async throws {
        let harness = try await DomainHarness(environment: Self.environment)
        try await harness.setClock(morning)
        await harness.control.enqueue(.succeedThenDelay(.seconds(60)), for: .kavenegarLookup)
        let first = try await harness.startWorker()
        try await SMSTest.reminder().enqueue(on: harness.jobs)
        #expect(try await eventually(timeout: .seconds(20)) { await harness.control.kavenegarMessageCount() == 1 })
        first.signal(SIGKILL)
        _ = await first.wait(timeout: .seconds(10))
        let ledger = SMSLedger(services: try harness.services())
        let record = try #require(try await ledger.record(SMSTest.reminder().messageID))
        #expect(record.state == nil && record.unreconciledProvider == "kavenegar" && record.unknownOutcomes == 1)
        _ = try await harness.redis.send("DEL", ledger.lockKey(SMSTest.reminder().messageID))

        let second = try await harness.startWorker()
        let sent = try #require(try await harness.waitForEvents("sms.sent", timeout: .seconds(60)).first).data
        #expect(sent["provider"]?.stringValue == "kavenegar")
        #expect(await harness.control.requests(to: .kavenegarLookup).count == 1, "sent once")
        #expect(await harness.control.kavenegarMessageCount() == 1)
        #expect(await harness.control.requests(to: .kavenegarSelectOutbox).count >= 1)
        let after = try await ledger.record(SMSTest.reminder().messageID)
        #expect(after?.state == "sent" && after?.providerIDs == sent["provider_message_ids"]?.arrayValue?.compactMap(\.stringValue))
        #expect(after?.unreconciledProvider == nil)
        await SMSTest.stop(second)
    }

    /// The outbox refuses this server (407: its IP is not whitelisted in the panel): that cannot change by
    /// retrying, so the one re-send goes out unchecked, as before outboxes were read.
    @Test func aClosedOutboxFallsBackToTheOneUncheckedResend() async throws {
        let harness = try await DomainHarness(environment: Self.environment)
        try await harness.setClock(morning)
        await harness.control.enqueue(.reply(.text(502, "<html>bad gateway</html>")), for: .kavenegarLookup)
        await harness.control.enqueue(.kavenegar(code: 407), for: .kavenegarSelectOutbox)
        let worker = try await harness.startWorker()
        try await SMSTest.reminder().enqueue(on: harness.jobs)

        _ = try await harness.waitForEvents("sms.sent")
        #expect(await harness.control.requests(to: .kavenegarSelectOutbox).count == 1)
        #expect(await harness.control.requests(to: .kavenegarLookup).count == 2)
        await SMSTest.stop(worker)
    }

    /// The answer lost, and on the job's last attempt the outbox cannot be read (a 5xx): the message ends `unknown`
    /// with `sms.failed`, said in the ledger and the events, not only by a job in the dead set.
    @Test func anOutboxUnreadableOnTheLastAttemptEndsTheMessageAsUnknown() async throws {
        let harness = try await DomainHarness(environment: Self.environment)
        try await harness.setClock(morning)
        await harness.control.enqueue(.reply(.text(502, "<html>bad gateway</html>")), for: .kavenegarLookup)
        await harness.control.enqueue(.reply(.text(500, "<html>oops</html>")), for: .kavenegarSelectOutbox)
        let worker = try await harness.startWorker()
        let payload = SMSTest.reminder()
        try await harness.jobs.enqueue(payload, options: EnqueueOptions(onceKey: "sms:\(payload.messageID)", maxAttempts: 2))

        let failed = try #require(try await harness.waitForEvents("sms.failed", timeout: .seconds(30)).first).data
        #expect(failed["reason"]?.stringValue?.contains("could not check Kavenegar's outbox") == true, "\(failed)")
        #expect(await harness.control.requests(to: .kavenegarLookup).count == 1, "never sent blind")
        let record = try await SMSLedger(services: harness.services()).record(payload.messageID)
        #expect(record?.state == "unknown")
        await SMSTest.stop(worker)
    }

    /// Both answers lost and the outbox closed (407): no third send; the message ends `unknown`, as before outboxes
    /// were read.
    @Test func aClosedOutboxNeverAllowsAThirdSend() async throws {
        let harness = try await DomainHarness(environment: Self.environment)
        try await harness.setClock(morning)
        for _ in 0..<3 { await harness.control.enqueue(.reply(.text(502, "<html>bad gateway</html>")), for: .kavenegarLookup) }
        for _ in 0..<3 { await harness.control.enqueue(.kavenegar(code: 407), for: .kavenegarSelectOutbox) }
        let worker = try await harness.startWorker()
        try await SMSTest.reminder().enqueue(on: harness.jobs)

        let failed = try #require(try await harness.waitForEvents("sms.failed", timeout: .seconds(30)).first).data
        #expect(failed["reason"]?.stringValue?.contains("outcome unknown after 2 attempts") == true)
        #expect(await harness.control.requests(to: .kavenegarLookup).count == 2)
        let record = try await SMSLedger(services: harness.services()).record(SMSTest.reminder().messageID)
        #expect(record?.state == "unknown")
        await SMSTest.stop(worker)
    }
}
