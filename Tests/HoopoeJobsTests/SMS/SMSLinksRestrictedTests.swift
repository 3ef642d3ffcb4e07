import Foundation
import HoopoeCore
import HoopoeJSON
import HoopoeJobs
import ProviderFakes
import Providers
import Redis
import TestSupport
import Testing

/// Kavenegar `420` ("using links is restricted for this account") on an expiration reminder, whose token3 is the
/// receipt link: a `provider.alert` and a configured fallback — never a silent permanent failure.
@Suite(.serialized) struct SMSLinksRestrictedTests {
    let morning = SMSTest.tehran(2024, 11, 23, 10)
    static let fakeOptions = FakeProvidersOptions(kavenegarTemplates: DomainHarness.templates.union(["expiration-reminder-nolink"]))

    /// Only Kavenegar configured: the link-free template `without_links` names goes out instead, without token3.
    @Test func onlyKavenegarSendsTheLinkFreeTemplate() async throws {
        let harness = try await DomainHarness(environment: ["SMS_PROVIDERS": "kavenegar"], fakeOptions: Self.fakeOptions)
        try await harness.setClock(morning)
        await harness.control.setKavenegarLinksRestricted(true)  // the fake's own account rule, not a canned reply
        let worker = try await harness.startWorker()
        try await SMSTest.reminder().enqueue(on: harness.jobs)

        let sent = try #require(try await harness.waitForEvents("sms.sent").first).data
        #expect(sent["provider"]?.stringValue == "kavenegar")
        #expect(sent["template"]?.stringValue == "expiration_reminder_nolink")
        let lookups = await SMSTest.forms(harness, .kavenegarLookup)
        #expect(lookups.map { $0["template"] } == ["expiration-reminder", "expiration-reminder-nolink"])
        #expect(lookups.last == ["receptor": "09121234567", "template": "expiration-reminder-nolink", "token10": "Sara Ahmadi", "token": "3", "token2": "1403/10/12"])
        let alerts = try await harness.waitForEvents("provider.alert")
        #expect(alerts.first?.data["provider"]?.stringValue == "kavenegar")
        #expect(alerts.first?.data["code"]?.stringValue == "420")
        #expect(try await harness.events("sms.failed").isEmpty)
        #expect(await harness.control.kavenegarMessageCount() == 1)
        await SMSTest.stop(worker)
    }

    /// Kavenegar refuses the link (420) and IPPanel fails for now (429); the link-free variant's first sender, Kavenegar,
    /// then refuses it for good (431). That verdict is about the variant's request: IPPanel, which failed only for now,
    /// may still send the message, so it is retried, not given up (the variant's run looked at its own failures only).
    @Test func theLinkFreeVariantsPermanentRefusalLeavesTheMessageToAProviderThatFailedForNow() async throws {
        let harness = try await DomainHarness(fakeOptions: Self.fakeOptions)
        try await harness.setClock(morning)
        await harness.control.enqueue(.kavenegar(code: 420), for: .kavenegarLookup)
        await harness.control.enqueue(.kavenegar(code: 431), for: .kavenegarLookup)
        for _ in 0..<2 { await harness.control.enqueue(.reply(.text(429, "too many requests")), for: .ippanelSend) }
        let failure = try await harness.failure(of: SMSSendJob(services: try harness.services()), SMSTest.reminder("variant-refused"))
        guard case .retry? = failure?.disposition else {
            Issue.record("expected a retry: \(String(describing: failure))")
            return
        }
        #expect(try await harness.events("sms.failed").isEmpty)
        #expect(await SMSTest.forms(harness, .kavenegarLookup).map { $0["template"] } == ["expiration-reminder", "expiration-reminder-nolink"])
    }

    /// Kavenegar refuses the link (420) and IPPanel refuses the linked template for good (422: a pattern parameter it
    /// does not take): the link-free variant still goes out through Kavenegar. IPPanel's permanent refusal ended the job
    /// at once ("not sent"), before the variant's run was reached.
    @Test func aPermanentRefusalAfterThe420StillSendsTheLinkFreeVariant() async throws {
        let harness = try await DomainHarness(fakeOptions: Self.fakeOptions)
        try await harness.setClock(morning)
        await harness.control.enqueue(.kavenegar(code: 420), for: .kavenegarLookup)
        await harness.control.enqueue(.ippanel(httpStatus: 422, messageCode: "422-1", message: "invalid parameter"), for: .ippanelSend)
        let failure = try await harness.failure(of: SMSSendJob(services: try harness.services()), SMSTest.reminder("variant-after-422"))
        #expect(failure == nil, "\(String(describing: failure))")
        let sent = try #require(try await harness.events("sms.sent").first).data
        #expect(sent["provider"]?.stringValue == "kavenegar" && sent["template"]?.stringValue == "expiration_reminder_nolink", "\(sent)")
        #expect(await SMSTest.forms(harness, .kavenegarLookup).map { $0["template"] } == ["expiration-reminder", "expiration-reminder-nolink"])
        #expect(try await harness.events("sms.failed").isEmpty)
    }

    /// The link-free variant went out, and `sms.sent` could not be written (the events stream of another type): the
    /// next run announces it naming the variant, as the first would have. It said nothing of it, so a reader took the
    /// receipt link to have gone out.
    @Test func aReannouncedVariantSendNamesTheVariant() async throws {
        let harness = try await DomainHarness(environment: ["SMS_PROVIDERS": "kavenegar"], fakeOptions: Self.fakeOptions)
        try await harness.setClock(morning)
        await harness.control.setKavenegarLinksRestricted(true)
        let events = "\(harness.namespace):events"
        try await harness.redis.send("DEL", events)
        try await harness.redis.send("SET", events, "not a stream")
        let job = SMSSendJob(services: try harness.services())
        await #expect(throws: (any Error).self) { _ = try await harness.failure(of: job, SMSTest.reminder("reannounced")) }
        try await harness.redis.send("DEL", events)
        #expect(try await harness.failure(of: job, SMSTest.reminder("reannounced")) == nil)
        let sent = try #require(try await harness.events("sms.sent").first).data
        #expect(sent["template"]?.stringValue == "expiration_reminder_nolink", "\(sent)")
        #expect(await harness.control.kavenegarMessageCount() == 1, "sent once")
    }

    /// The link-free variant went out but its answer was lost: the next run finds it in Kavenegar's outbox by the
    /// variant's own tokens (the variant has no link) and sends nothing more. Searching with the first template's
    /// tokens, as before, found nothing and sent the message twice.
    @Test func aLostLinkFreeSendIsFoundInTheOutboxByItsOwnTokens() async throws {
        let harness = try await DomainHarness(
            environment: ["SMS_PROVIDERS": "kavenegar", "SMS_UNKNOWN_OUTCOME_RETRY_SECONDS": "1"], fakeOptions: Self.fakeOptions)
        try await harness.setClock(morning)
        await harness.control.setKavenegarLinksRestricted(true)
        await harness.control.enqueue(.delay(.zero), for: .kavenegarLookup)  // the first lookup: answered as usual (420)
        await harness.control.enqueue(.succeedThenDrop, for: .kavenegarLookup)  // the variant: sent, its answer lost
        let worker = try await harness.startWorker()
        try await SMSTest.reminder().enqueue(on: harness.jobs)

        let sent = try #require(try await harness.waitForEvents("sms.sent", timeout: .seconds(30)).first).data
        #expect(sent["template"]?.stringValue == "expiration_reminder_nolink")
        #expect(await harness.control.requests(to: .kavenegarSelectOutbox).count >= 1)
        #expect(await harness.control.kavenegarMessageCount() == 1, "sent once")
        let lookups = await SMSTest.forms(harness, .kavenegarLookup)
        #expect(lookups.map { $0["template"] } == ["expiration-reminder", "expiration-reminder-nolink"])
        await SMSTest.stop(worker)
    }

    /// With IPPanel configured the other provider takes the message first, link included.
    @Test func otherProviderKeepsTheLink() async throws {
        let harness = try await DomainHarness(fakeOptions: Self.fakeOptions)
        try await harness.setClock(morning)
        await harness.control.setKavenegarLinksRestricted(true)
        let worker = try await harness.startWorker()
        try await SMSTest.reminder().enqueue(on: harness.jobs)

        let sent = try #require(try await harness.waitForEvents("sms.sent").first).data
        #expect(sent["provider"]?.stringValue == "ippanel")
        #expect(sent["template"] == nil)
        let body = try #require(await harness.control.requests(to: .ippanelSend).first.flatMap { JSONValue.parse($0.body) })
        #expect(body["params"]?["link"]?.stringValue == "https://kamva.ir/email/receipt/981")
        #expect(try await harness.waitForEvents("provider.alert").first?.data["code"]?.stringValue == "420")
        await SMSTest.stop(worker)
    }

    /// The templates file is checked at start: `without_links` must name another template whose tokens the first
    /// one carries.
    @Test(arguments: [
        ("templates:\n  a:\n    kavenegar: x\n    tokens: {token: t}\n    without_links: b\n", "not another template"),
        ("templates:\n  a:\n    kavenegar: x\n    tokens: {token: t}\n    without_links: b\n  b:\n    kavenegar: y\n    tokens: {token: t, token2: u}\n",
         "b takes token2, which a does not carry"),
    ])
    func withoutLinksIsChecked(_ yaml: String, _ reason: String) throws {
        do {
            _ = try SMSTemplates.parse(yaml, file: "f.yaml")
            Issue.record("accepted: \(yaml)")
        } catch {
            #expect(error.key == "f.yaml: templates.a.without_links")
            #expect(error.message.contains(reason), "\(error.message)")
        }
    }

    @Test func withoutLinksNamesTheVariant() throws {
        let yaml = "templates:\n  a:\n    kavenegar: x\n    tokens: {token: t, token3: link}\n    without_links: b\n  b:\n    kavenegar: y\n    tokens: {token: t}\n"
        let templates = try SMSTemplates.parse(yaml, file: "f.yaml")
        #expect(templates["a"]?.withoutLinks == "b")
        #expect(templates["b"]?.withoutLinks == nil)
    }
}
