import Foundation
import Redis
import Testing

@testable import HoopoeCore

/// The counter keys' time parts (``QueueKeys/counterTime(_:)``) and the acknowledge call built from them.
@Suite struct QueueKeysTimeTests {
    /// What `String(format:)` wrote before the parts were written digit by digit: the keys of counters already in
    /// Redis must not change.
    static func formatted(_ date: Date) -> (day: String, hour: String, minute: String) {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down))
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: Date(timeIntervalSince1970: Double(seconds)))
        let day = String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
        return (day, day + String(format: "T%02d", c.hour!), String(format: "m%02d", c.minute!))
    }

    /// Across minute, hour, day, month, year and leap-day boundaries, before 1970 and far ahead: the same parts as the
    /// formatter and a calendar give.
    @Test func thePartsAreThoseTheFormatterWrote() {
        let start = 1_764_547_199.5  // 2025-11-30T23:59:59.5Z: the next second is a new minute, hour and day
        var moments = [start, start + 0.4, start + 0.6, start + 59, start + 61, start - 3600, start + 86_400 * 40,
                       951_782_399.9, 951_782_400, 951_868_800,  // 2000-02-28/29, 2000-03-01
                       1_767_225_599.999, 1_767_225_600, 0, -0.5, -86_400.25, -2_208_988_800, 4_102_444_800]
        var random = SeededRandom(seed: 17)
        for _ in 0..<2_000 { moments.append(Double(Int64(random.next() % 8_000_000_000)) - 2_000_000_000 + 0.25) }
        for seconds in moments {
            let date = Date(timeIntervalSince1970: seconds)
            let parts = QueueKeys.counterTime(date)
            let want = Self.formatted(date)
            #expect(parts.day == want.day && parts.hour == want.hour && parts.minute == want.minute, "\(seconds): \(parts) vs \(want)")
            #expect(QueueKeys.day(date) == want.day && QueueKeys.hour(date) == (want.hour, want.minute))
        }
        let before = QueueKeys.counterTime(Date(timeIntervalSince1970: start))
        #expect(before.day == "2025-11-30" && before.hour == "2025-11-30T23" && before.minute == "m59")
        let after = QueueKeys.counterTime(Date(timeIntervalSince1970: start + 0.6))
        #expect(after.day == "2025-12-01" && after.hour == "2025-12-01T00" && after.minute == "m00")
    }

    /// A batch counts every job under its own type (the first type without a dictionary, the others with one), and
    /// names the unique locks, answers and history ids of only the jobs that have them, in the batch's order; the
    /// history records go in an `HSET` of their own, not in the script's arguments (decision 0062).
    @Test func theAcknowledgeCallCountsEachTypeAndListsWhatEachJobHas() {
        let keys = QueueKeys(queue: "default", namespace: "ns")
        let limits = JobStore.HistoryLimits(maxJobs: 100, maxAgeSeconds: 60)
        let acks = [
            Acknowledgement(queue: "default", entryID: "1-0", type: "a", jobID: "j1", uniqueKey: nil, counter: "processed", history: (Array("r1".utf8), limits)),
            Acknowledgement(queue: "default", entryID: "2-0", type: "b", jobID: "j2", uniqueKey: "u2", counter: "processed", answer: "{}"),
            Acknowledgement(queue: "default", entryID: "3-0", type: "a", jobID: "j3", uniqueKey: "u3", counter: "processed", history: (Array("r3".utf8), limits)),
        ]
        let date = Date(timeIntervalSince1970: 1_764_547_199.5)
        let call = JobStore.acknowledgeCall(keys, at: date, counter: "processed", acks: acks, consumer: "w1")
        #expect(call.keys == [
            keys.stream, keys.stats(day: "2025-11-30"), keys.stats(hour: "2025-11-30T23"), keys.historyIDs, keys.historyJobs, keys.unique("u2"),
            keys.unique("u3"), keys.answer("j2"),
        ])
        #expect(call.arguments == [
            QueueKeys.group, "3", "2", "1", String(QueueKeys.answerTTLSeconds), "m59", String(QueueKeys.hourStatsTTLSeconds), "2", "", "100", "w1",
            "1-0", "2-0", "3-0", "j2", "2-0", "j3", "3-0", "2-0", "{}", "j1", "j3", "processed", "a", "2", "b", "1",
        ])
        #expect(call.records?.arguments.map { String(decoding: $0, as: UTF8.self) } == ["HSET", keys.historyJobs, "j1", "r1", "j3", "r3"])
        #expect(call.limits == limits && call.recordCount == 2)
    }

    /// The settle's keys are kept per queue and remade each minute (``JobStore/settleKeys(_:at:)``): whatever the order
    /// of queues, namespaces and moments (more queues than are kept, minutes, hours and days crossed both ways, before
    /// 1970), each call names the keys and the minute that queue and moment make.
    @Test func theSettleKeysAreThoseOfTheQueueAndMinuteWhateverCameBefore() {
        let queues = (0..<(JobStore.settleKeysKept + 4)).map { QueueKeys(queue: "q\($0)", namespace: $0 % 3 == 0 ? "ns" : "other") }
            + [QueueKeys(queue: "q1", namespace: "ns"), QueueKeys(queue: "default", namespace: "hoopoe")]
        let start = 1_764_547_199.5  // 2025-11-30T23:59:59.5Z
        let moments = [start, start + 0.6, start - 59.9, start + 60, start - 3600, start + 86_400, -0.5, -60.5, 0, start]
        var random = SeededRandom(seed: 64)
        let limits = JobStore.HistoryLimits(maxJobs: 100, maxAgeSeconds: 60)
        let ack = Acknowledgement(queue: "x", entryID: "1-0", type: "a", jobID: "j1", uniqueKey: nil, counter: "processed", history: (Array("r".utf8), limits))
        for _ in 0..<600 {
            let keys = queues[Int(random.next() % UInt64(queues.count))]
            let date = Date(timeIntervalSince1970: moments[Int(random.next() % UInt64(moments.count))])
            let time = Self.formatted(date)
            let call = JobStore.acknowledgeCall(keys, at: date, counter: "processed", acks: [ack])
            #expect(call.keys == [keys.stream, keys.stats(day: time.day), keys.stats(hour: time.hour), keys.historyIDs, keys.historyJobs])
            #expect(call.arguments[5] == time.minute)
            #expect(call.records?.arguments.map { String(decoding: $0, as: UTF8.self) } == ["HSET", keys.historyJobs, "j1", "r"])
        }
    }
}
