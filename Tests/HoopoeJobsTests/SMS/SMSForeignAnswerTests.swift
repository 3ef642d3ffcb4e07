import Foundation
import HoopoeCore
import HoopoeJSON
@testable import HoopoeJobs
import ProviderFakes
import Providers
import Redis
import TestSupport
import Testing

/// `sms.send` when Kavenegar's answer is not Kavenegar's: a WAF's 403 page, a 404 from a wrong base path, a redirect,
/// or a success without a messageid. None of them says the message is at fault, so none gives it up: the next
/// provider takes it (with an alert where an operator must look), or, for a success with no id, the send is a lost
/// answer and the outbox is asked before it goes again.
@Suite(.serialized) struct SMSForeignAnswerTests {
    let morning = SMSTest.tehran(2024, 11, 23, 10)

    struct Row: Sendable, CustomTestStringConvertible {
        var reply: FakeReply
        var alerts: Bool
        var testDescription: String { "Kavenegar answers \(reply.status) without its envelope" }
    }

    static let rows: [Row] = [
        Row(reply: .text(403, "<html><body>Access denied (geo policy)</body></html>"), alerts: true),
        Row(reply: .text(404, "<html><body>Not Found</body></html>"), alerts: false),
        Row(reply: FakeReply(status: 301, headers: [FakeHeader("Location", "https://elsewhere.example/v1")]), alerts: true),
    ]

    @Test(arguments: rows)
    func aPageFromKavenegarSendsThroughIPPanel(_ row: Row) async throws {
        let harness = try await DomainHarness("aPageFromKavenegarSendsThroughIPPanel-\(row.reply.status)")
        try await harness.setClock(morning)
        await harness.control.enqueue(.reply(row.reply), for: .kavenegarLookup)
        let payload = SMSTest.reminder("foreign-\(row.reply.status)")
        let failure = try await harness.failure(of: SMSSendJob(services: harness.services()), payload)
        #expect(failure == nil, "the message was given up: \(String(describing: failure))")
        #expect(await harness.control.requests(to: .kavenegarLookup).count == 1)
        #expect(await harness.control.requests(to: .ippanelSend).count == 1, "IPPanel was not asked")
        let sent = try #require(try await harness.events("sms.sent").first).data
        #expect(sent["provider"]?.stringValue == "ippanel")
        #expect(try await harness.events("sms.failed").isEmpty)
        let alerts = try await harness.events("provider.alert")
        if row.alerts {
            #expect(alerts.count == 1 && alerts.first?.data["provider"]?.stringValue == "kavenegar", "\(alerts.map(\.data))")
            #expect(alerts.first?.data["code"]?.stringValue == String(row.reply.status))
        } else {
            #expect(alerts.isEmpty)
        }
    }

    /// `return.status` 200 and no `entries`: not "sent" with no id (nothing to poll, nothing to find), but a lost answer —
    /// the next run asks the outbox, finds nothing, and sends once more; IPPanel is not handed a message that may be out.
    @Test func aKavenegarSuccessWithoutAMessageIDIsReconciledAsALostAnswer() async throws {
        let harness = try await DomainHarness()
        try await harness.setClock(morning)
        await harness.control.enqueue(.reply(.json(200, ["return": ["status": 200, "message": "تایید شد"]])), for: .kavenegarLookup)
        let services = try harness.services()
        let payload = SMSTest.reminder("no-entries-1")
        let first = try #require(try await harness.failure(of: SMSSendJob(services: services), payload, id: "job-1", attempt: 1))
        guard case .retry = first.disposition else {
            Issue.record("expected a retry, got \(first)")
            return
        }
        #expect(first.message.contains("outcome unknown"), "\(first.message)")
        #expect(try await harness.events("sms.sent").isEmpty, "recorded as sent with no id")
        #expect(await harness.control.requests(to: .ippanelSend).isEmpty, "handed to IPPanel while it may be out")

        #expect(try await harness.failure(of: SMSSendJob(services: services), payload, id: "job-1", attempt: 2) == nil)
        #expect(await harness.control.requests(to: .kavenegarSelectOutbox).count >= 1, "the outbox was not asked")
        #expect(await harness.control.requests(to: .kavenegarLookup).count == 2)
        let sent = try #require(try await harness.events("sms.sent").first).data
        #expect(sent["provider"]?.stringValue == "kavenegar")
        #expect(sent["provider_message_ids"]?.arrayValue?.isEmpty == false)
    }
}
