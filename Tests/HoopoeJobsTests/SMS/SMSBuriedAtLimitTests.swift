import Foundation
import HoopoeCore
import HoopoeJSON
@testable import HoopoeJobs
import ProviderFakes
import Providers
import Redis
import TestSupport
import Testing

/// An `sms.send` whose lost run used up its `max_attempts` is buried unrun by the engine (`its worker was lost 1
/// time(s) …; no attempt is left of its limit of 1`), and ends its message with one `sms.failed`, as the kill rule's
/// burial does. Before, only that rule told the handler: a message buried so had no `sms.failed`, and `job.dead`, the
/// only trace, has no `message_id`.
@Suite(.serialized) struct SMSBuriedAtLimitTests {
    @Test func aMessageRecoveredPastItsMaxAttemptsEndsWithOneSmsFailed() async throws {
        let harness = try await DomainHarness()
        try await harness.setClock(SMSTest.tehran(2024, 11, 23, 10))
        let payload = SMSTest.reminder("buried:at-limit")
        let json = try #require(JSONValue.parse(Array(try JSONEncoder().encode(payload))))
        try await harness.enqueue(SMSSendJob.type, json, options: EnqueueOptions(maxAttempts: 1, id: "job-at-limit"))
        // Delivered once to a worker that is gone (no run of it marked): lost once, its one attempt used.
        let keys = harness.jobs.keys("default")
        _ = try? await harness.redis.send("XGROUP", "CREATE", keys.stream, "workers", "0", "MKSTREAM")
        _ = try await harness.redis.send(RedisCommand("XREADGROUP", ["GROUP", "workers", "lost-1", "COUNT", "10", "STREAMS", keys.stream, ">"]))

        let worker = try await harness.startWorker(["--concurrency", "2", "--lease", "1"])
        let failed = try await harness.waitForEvents("sms.failed", count: 1, timeout: .seconds(30))
        let reason = failed.first?.data["reason"]?.stringValue ?? ""
        #expect(failed.first?.data["message_id"]?.stringValue == payload.messageID)
        #expect(reason.contains("its worker was lost 1 time(s)") && reason.contains("no attempt is left of its limit of 1"), "\(reason)")
        let dead = try await harness.dead()
        #expect(dead.map(\.id) == ["job-at-limit"])
        try await Task.sleep(for: .seconds(1.5))  // room for a second sms.failed, which must not come
        #expect(try await harness.events("sms.failed").count == 1)
        #expect(await harness.control.requests(to: .kavenegarLookup).isEmpty)
        #expect(await harness.control.requests(to: .ippanelSend).isEmpty)
        await SMSTest.stop(worker)
    }

    /// A last attempt cut off by its timeout while Kavenegar holds the send: the engine buries the job and tells the
    /// handler, whose hook gives the message up (`unknown`: the send may have gone) and emits `sms.failed`. The cut-off
    /// run goes on until its call ends (cancellation does not stop a Redis call), and its own last-attempt give-up
    /// emitted a second `sms.failed`: a cut-off run settles nothing now.
    @Test func aLastAttemptCutOffByItsTimeoutEndsWithOneSmsFailed() async throws {
        let harness = try await DomainHarness()
        try await harness.setClock(SMSTest.tehran(2024, 11, 23, 10))
        // Kavenegar takes the send and never answers: the call ends at the client's 15 s limit, its outcome unknown.
        await harness.control.enqueue(.succeedThenDelay(.seconds(30)), for: .kavenegarLookup)
        let payload = SMSTest.reminder("buried:cut-off")
        let json = try #require(JSONValue.parse(Array(try JSONEncoder().encode(payload))))
        try await harness.enqueue(SMSSendJob.type, json, options: EnqueueOptions(maxAttempts: 1, timeout: .seconds(1), id: "job-cut-off"))

        let worker = try await harness.startWorker(["--concurrency", "2"])
        let failed = try await harness.waitForEvents("sms.failed", count: 1, timeout: .seconds(30))
        #expect(failed.first?.data["message_id"]?.stringValue == payload.messageID)
        #expect(try await harness.dead().map(\.id) == ["job-cut-off"])
        #expect(failed.first?.data["reason"]?.stringValue?.contains("may have been delivered") == true, "\(failed)")
        try await Task.sleep(for: .seconds(17))  // past the client's limit: the cut-off run has ended by now
        #expect(try await harness.events("sms.failed").count == 1)
        await SMSTest.stop(worker)
    }
}
