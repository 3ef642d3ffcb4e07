import Foundation
import HoopoeCore
import HoopoeJSON
import HoopoeJobs
import ProviderFakes
import Providers
import TestSupport
import Testing

/// An IPPanel send whose answer is lost: before sending again, `sms.send` asks IPPanel's outbox (`report/new_list`,
/// `report/recipients`, `report/by_bulk`) whether it went out.
@Suite(.serialized) struct SMSIPPanelReconcileTests {
    let morning = SMSTest.tehran(2024, 11, 23, 10)
    static let environment = ["SMS_PROVIDERS": "ippanel", "SMS_UNKNOWN_OUTCOME_RETRY_SECONDS": "1"]

    /// The bulk was created, then the connection dropped: found in the outbox, recorded as sent, never re-sent.
    @Test func itWasSentSoItIsNotSentAgain() async throws {
        let harness = try await DomainHarness(environment: Self.environment)
        try await harness.setClock(morning)
        // Another recipient's bulk on the same line, sent just before: the outbox must be matched by recipient.
        _ = try await harness.services().providers.ippanel?.sendPattern(
            IPPanelPatternMessage(code: "other", recipient: "+989351112233", params: ["c": "1"]))
        await harness.control.enqueue(.succeedThenDrop, for: .ippanelSend)
        let worker = try await harness.startWorker()
        try await SMSTest.reminder().enqueue(on: harness.jobs)
        // Right after the lost send, another message to the same recipient (a low-credit SMS): newer in the outbox,
        // so the search must tell the two apart by their text, not take the newest bulk for the number.
        #expect(try await eventually(timeout: .seconds(20)) { await harness.control.requests(to: .ippanelSend).count == 2 })
        let other = try #require(try await harness.services().providers.ippanel?.sendPattern(
            IPPanelPatternMessage(code: "low-credit", recipient: "+989121234567", params: ["name": "Sara Ahmadi", "balance": "50"])).bulkIDs.first)

        let sent = try #require(try await harness.waitForEvents("sms.sent").first).data
        #expect(sent["provider"]?.stringValue == "ippanel")
        let sends = await harness.control.requests(to: .ippanelSend)
        #expect(sends.count == 3)  // the other recipient's, ours once, the low-credit one
        #expect(await harness.control.ippanelBulkCount() == 3)
        #expect(await harness.control.requests(to: .ippanelNewList).count >= 1)
        // The recorded bulk is the one the lost send created, not the newer one for the same number.
        let ids = sent["provider_message_ids"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(ids == [String(other - 1)])
        let record = try await SMSLedger(services: harness.services()).record(SMSTest.reminder().messageID)
        #expect(record?.state == "sent")
        #expect(record?.providerIDs == ids)
        #expect(try await harness.events("sms.failed").isEmpty)
        await SMSTest.stop(worker)
    }

    /// The send failed with a 502 and nothing reached the outbox: one re-send, one bulk.
    @Test func itWasNotSentSoItIsSentOnceMore() async throws {
        let harness = try await DomainHarness(environment: Self.environment)
        try await harness.setClock(morning)
        await harness.control.enqueue(.reply(.text(502, "<html>bad gateway</html>")), for: .ippanelSend)
        let worker = try await harness.startWorker()
        try await SMSTest.reminder().enqueue(on: harness.jobs)

        let sent = try #require(try await harness.waitForEvents("sms.sent").first).data
        #expect(sent["provider"]?.stringValue == "ippanel")
        #expect(await harness.control.requests(to: .ippanelSend).count == 2)
        #expect(await harness.control.ippanelBulkCount() == 1)
        #expect(await harness.control.requests(to: .ippanelNewList).count >= 1)
        #expect(try await harness.events("sms.sent").count == 1)
        await SMSTest.stop(worker)
    }

    /// The first send fails with a 502 (not sent), the re-send's answer is lost after it went out: a third run finds
    /// it in the outbox instead of giving up with "outcome unknown".
    @Test func theResendWentOutAfterAll() async throws {
        let harness = try await DomainHarness(environment: Self.environment)
        try await harness.setClock(morning)
        await harness.control.enqueue(.reply(.text(502, "<html>bad gateway</html>")), for: .ippanelSend)
        await harness.control.enqueue(.succeedThenDrop, for: .ippanelSend)
        let worker = try await harness.startWorker()
        try await SMSTest.reminder().enqueue(on: harness.jobs)

        let sent = try #require(try await harness.waitForEvents("sms.sent").first).data
        #expect(sent["provider"]?.stringValue == "ippanel")
        #expect(await harness.control.requests(to: .ippanelSend).count == 2)
        #expect(await harness.control.ippanelBulkCount() == 1)
        #expect(try await harness.events("sms.failed").isEmpty)
        await SMSTest.stop(worker)
    }

    /// Neither send reached the outbox: the message fails as not sent (not "outcome unknown"), and no third send.
    @Test func neitherSendWentOut() async throws {
        let harness = try await DomainHarness(environment: Self.environment)
        try await harness.setClock(morning)
        await harness.control.enqueue(.reply(.text(502, "<html>bad gateway</html>")), for: .ippanelSend)
        await harness.control.enqueue(.reply(.text(502, "<html>bad gateway</html>")), for: .ippanelSend)
        let worker = try await harness.startWorker()
        try await SMSTest.reminder().enqueue(on: harness.jobs)

        let failed = try #require(try await harness.waitForEvents("sms.failed").first).data
        #expect(failed["reason"]?.stringValue?.hasPrefix("not sent: IPPanel's outbox has no bulk") == true, "\(failed)")
        #expect(await harness.control.requests(to: .ippanelSend).count == 2)
        #expect(await harness.control.ippanelBulkCount() == 0)
        let record = try await SMSLedger(services: harness.services()).record(SMSTest.reminder().messageID)
        #expect(record?.state == "failed")
        await SMSTest.stop(worker)
    }
}
