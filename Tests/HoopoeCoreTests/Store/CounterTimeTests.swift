import Foundation
import Testing

@testable import HoopoeCore

/// The counter keys' time parts kept per minute (``CounterTime``) and the acknowledge call built from them.
@Suite struct CounterTimeTests {
    /// Kept for a minute, never past it: each moment gets what ``QueueKeys`` computes afresh, across minute, hour
    /// and day boundaries and going back in time.
    @Test func thePartsAreThoseOfTheMomentAskedFor() {
        let start = 1_764_547_199.5  // 2025-11-30T23:59:59.5Z: the next second is a new minute, hour and day
        for seconds in [start, start + 0.4, start + 0.6, start + 59, start + 61, start - 3600, start, start + 86_400 * 40] {
            let date = Date(timeIntervalSince1970: seconds)
            let parts = CounterTime.at(date)
            let hour = QueueKeys.hour(date)
            #expect(parts == CounterTime(day: QueueKeys.day(date), hour: hour.hour, minute: hour.minute), "\(seconds)")
        }
        #expect(CounterTime.at(Date(timeIntervalSince1970: start)) == CounterTime(day: "2025-11-30", hour: "2025-11-30T23", minute: "m59"))
        #expect(CounterTime.at(Date(timeIntervalSince1970: start + 0.6)) == CounterTime(day: "2025-12-01", hour: "2025-12-01T00", minute: "m00"))
    }

    /// A batch counts every job under its own type (the first type without a dictionary, the others with one), and
    /// names the unique locks, answers and history records of only the jobs that have them, in the batch's order.
    @Test func theAcknowledgeCallCountsEachTypeAndListsWhatEachJobHas() {
        let keys = QueueKeys(queue: "default", namespace: "ns")
        let limits = JobStore.HistoryLimits(maxJobs: 100, maxAgeSeconds: 60)
        let acks = [
            Acknowledgement(queue: "default", entryID: "1-0", type: "a", jobID: "j1", uniqueKey: nil, counter: "processed", history: ("r1", limits)),
            Acknowledgement(queue: "default", entryID: "2-0", type: "b", jobID: "j2", uniqueKey: "u2", counter: "processed", answer: "{}"),
            Acknowledgement(queue: "default", entryID: "3-0", type: "a", jobID: "j3", uniqueKey: "u3", counter: "processed", history: ("r3", limits)),
        ]
        let date = Date(timeIntervalSince1970: 1_764_547_199.5)
        let call = JobStore.acknowledgeCall(keys, at: date, counter: "processed", acks: acks)
        #expect(call.keys == [
            keys.stream, keys.stats(day: "2025-11-30"), keys.stats(hour: "2025-11-30T23"), keys.history, keys.historyJobs,
            keys.unique("u2"), keys.unique("u3"), keys.answer("j2"),
        ])
        #expect(call.arguments == [
            QueueKeys.group, "3", "2", "1", String(QueueKeys.answerTTLSeconds), "m59", String(QueueKeys.hourStatsTTLSeconds), "2", "100", "60",
            "1764547199.500", "1-0", "2-0", "3-0", "j2", "j3", "{}", "j1", "r1", "j3", "r3", "processed", "a", "2", "b", "1",
        ])
    }
}
