import Foundation
import HoopoeCore
import HoopoeJSON
@testable import HoopoeJobs
import ProviderFakes
import Providers
import Redis
import TestSupport
import Testing

/// `email.send` buried by the engine where no run of it concluded ends with one `email.failed` by message id, as a
/// run's own last attempt does (jobs/types/email.send.md promises it for any retry on the last attempt).
@Suite(.serialized) struct EmailBuriedTests {
    /// A last attempt cut off by its timeout while Brevo holds the request: `email.failed`, saying the outcome is
    /// unknown. Before, the cut-off run skipped its own (it cannot tell a timeout from a shutdown) and nothing said so.
    @Test func aLastAttemptCutOffByItsTimeoutEndsWithOneEmailFailed() async throws {
        let harness = try await DomainHarness()
        await harness.control.enqueue(.succeedThenDelay(.seconds(60)), for: .brevoSendEmail)
        let payload = EmailSendPayload(
            messageID: "buried:email-cut-off", email: "sara@example.com", name: "سارا", templateID: 17,
            params: ["days_left_text": "۱۰ روز دیگر"], userID: "42", purpose: "reminder.expiration")
        let json = try #require(JSONValue.parse(Array(try JSONEncoder().encode(payload))))
        try await harness.enqueue(EmailSendJob.type, json, options: EnqueueOptions(maxAttempts: 1, timeout: .seconds(1), id: "job-email-cut-off"))

        let worker = try await harness.startWorker(["--concurrency", "2"])
        let failed = try await harness.waitForEvents("email.failed", count: 1, timeout: .seconds(30))
        #expect(failed.first?.data["message_id"]?.stringValue == payload.messageID)
        #expect(failed.first?.data["reason"]?.stringValue?.hasPrefix("outcome unknown: the engine buried its job") == true, "\(failed.map(\.data))")
        #expect(try await harness.dead().map(\.id) == ["job-email-cut-off"])
        try await Task.sleep(for: .seconds(2))
        #expect(try await harness.events("email.failed").count == 1)
        await SMSTest.stop(worker)
    }

    /// Buried before anything was sent (the kill rule's call, made directly): `not sent`; a sent email: nothing.
    @Test func aBurialSaysNotSentUnlessTheEmailWent() async throws {
        let harness = try await DomainHarness()
        let job = EmailSendJob(services: try harness.services())
        let payload = EmailSendPayload(messageID: "buried:email-unsent", email: "sara@example.com", name: nil, templateID: 17, params: [:])
        try await job.buried(payload, reason: "killed its worker 2 times", context: harness.context(type: EmailSendJob.type))
        let failed = try await harness.events("email.failed")
        #expect(failed.map { $0.data["reason"]?.stringValue } == ["not sent: the engine buried its job (killed its worker 2 times); it is not run again"])

        let sent = EmailSendPayload(messageID: "buried:email-sent", email: "sara@example.com", name: nil, templateID: 17, params: [:])
        try await harness.redis.send("HSET", "\(harness.namespace):{email}:msg:\(sent.messageID)", "state", "sent", "brevo_message_id", "<1@b>")
        try await job.buried(sent, reason: "killed its worker 2 times", context: harness.context(type: EmailSendJob.type))
        #expect(try await harness.events("email.failed").count == 1)
    }
}
