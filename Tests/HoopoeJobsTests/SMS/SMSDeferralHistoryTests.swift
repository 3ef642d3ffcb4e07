import Foundation
import HoopoeCore
import HoopoeJobs
import Redis
import TestSupport
import Testing

/// A send put off by quiet hours is a deferral, not a discard: the old job's history links to the new job, the worker
/// logs "job deferred" with the new id, and `hoopoe job show` of the old id shows the link.
@Suite(.serialized) struct SMSDeferralHistoryTests {
    @Test func aQuietHoursDeferralRecordsTheNewJobOnTheOldOne() async throws {
        let harness = try await DomainHarness()
        try await harness.setClock(SMSTest.tehran(2024, 11, 23, 23))
        let worker = try await harness.startWorker(["--concurrency", "2"], environment: ["LOG_LEVEL": "info", "LOG_FORMAT": "text"])
        let oldID = try #require(try await harness.jobs.enqueue(SMSTest.reminder(), options: EnqueueOptions(id: "sms-night-1")).createdID)

        var newID: String?
        #expect(try await eventually(timeout: .seconds(30)) {
            newID = try await SMSTest.scheduled(harness).first { $0.envelope.type == SMSSendJob.type }?.envelope.id
            return newID != nil
        })
        let next = try #require(newID)
        #expect(next != oldID)
        var found: FoundJob?
        #expect(try await eventually(timeout: .seconds(30)) {
            found = try await harness.jobs.find(id: oldID, queue: "default", finished: true)
            if case .finished = found?.state { return true }
            return false
        })
        guard case .finished(let record) = found?.state else { Issue.record("not finished: \(String(describing: found))"); return }
        #expect(record.outcome == .deferred && record.deferredTo == next && record.attempt == 1, "\(record)")
        #expect(record.error?.contains("quiet hours") == true && record.error?.contains(next) == true)
        #expect(try await harness.jobs.counters(queue: "default")["deferred"] == 1)
        await SMSTest.stop(worker)
        let log = worker.output
        #expect(log.contains("job deferred") && log.contains(next), "\(log)")
        #expect(!log.contains("job discarded"), "\(log)")

        let show = try ChildProcess(BuiltProducts.hoopoe, ["job", "show", oldID], environment: try harness.baseEnvironment)
        let status = await show.wait(timeout: .seconds(20))
        #expect(status == 0 && show.output.contains("state:       finished: deferred"), "\(show.output)")
        #expect(show.output.contains("deferred to: \(next) (hoopoe job show \(next))"), "\(show.output)")
        #expect(!show.output.contains("+989121234567"), "the phone is masked: \(show.output)")
    }
}
