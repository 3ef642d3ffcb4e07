import Foundation
import HoopoeCore
import Redis
import Synchronization
import TestSupport
import Testing

@testable import HoopoeScheduler

/// A task's last-tick key that exists but holds no tick (`SET hoopoe:{kq}:schedule:canary:last abc`) is told apart from
/// no history: the scheduler still starts the task from now and overwrites the key, but says so as a warning naming the
/// key and what it held (cut, masked). Before, it read as "no history for canary in queue kq", at info.
@Suite struct UnreadableLastTickTests {
    static let canary = ScheduledTask(
        name: "canary", cron: try! CronExpression("* * * * *"), timeZone: TimeZone(identifier: "UTC")!, type: "diag.record", queue: "kq",
        catchUp: .once)

    @Test func theHistoryNamesTheKeyAndWhatItHeld() async throws {
        let h = try TestNamespace(#function)
        let store = RedisLastTickStore(redis: h.redis, prefix: h.namespace)
        let key = store.key(for: Self.canary)
        #expect(key == "\(h.namespace):{kq}:schedule:canary:last")
        try await h.redis.send("SET", key, "abc")
        let history = try await store.history(of: Self.canary)
        #expect(history.lastTick == nil)
        #expect(history.unreadable == UnreadableTick(key: key, value: Array("abc".utf8)))
        #expect(history.unreadable?.content == "'abc'")

        // A number out of range too (past the year 9999); and the key of an earlier release, read when the task's is missing.
        try await h.redis.send("SET", key, "253402300800")
        #expect(try await store.history(of: Self.canary).unreadable?.key == key)
        try await h.redis.send("DEL", key)
        try await h.redis.send("SET", store.legacyKey(for: Self.canary), "-1")
        #expect(try await store.history(of: Self.canary).unreadable == UnreadableTick(key: store.legacyKey(for: Self.canary), value: Array("-1".utf8)))

        // No key at all is no history, as before.
        try await h.redis.send("DEL", store.legacyKey(for: Self.canary))
        #expect(try await store.history(of: Self.canary) == TickHistory(lastTick: nil))
    }

    /// Whoever wrote the key wrote what it holds: on one line, phone numbers masked, cut.
    @Test func theContentIsCutMaskedAndOnOneLine() {
        let value = "09121234567\n\u{1B}[31m" + String(repeating: "x", count: 5000)
        let content = UnreadableTick(key: "k", value: Array(value.utf8)).content
        #expect(!content.contains("09121234567") && content.contains("0912****567"), "\(content)")
        #expect(!content.contains("\n") && !content.contains("\u{1B}") && content.contains("\\n"), "\(content)")
        #expect(content.hasSuffix("…' (\(value.utf8.count) bytes)"), "\(content)")
        #expect(content.count < UnreadableTick.shownCharacters + 20, "\(content)")
    }

    /// The scheduler's notice: the unreadable key instead of "started from now", and the key overwritten by the advance.
    @Test func theSchedulerReportsTheUnreadableKeyNotANewTask() async throws {
        let h = try TestNamespace(#function)
        let store = RedisLastTickStore(redis: h.redis, prefix: h.namespace)
        let key = store.key(for: Self.canary)
        try await h.redis.send("SET", key, "abc")
        let notices = Mutex<[SchedulerNotice]>([])
        let timeline = VirtualTimeline(start: SchedulerTestTime.date("2025-06-01T07:40:20Z")!, end: SchedulerTestTime.date("2025-06-01T07:40:30Z")!)
        timeline.join()
        await JobScheduler(
            tasks: [Self.canary], lastTicks: store, sink: JobQueueTickSink(jobs: h.jobs), clock: VirtualClock(timeline: timeline, skew: 0),
            onNotice: { notice in notices.withLock { $0.append(notice) } }
        ).run()
        timeline.leave()
        #expect(notices.withLock { $0 } == [.historyUnreadable(task: "canary", queue: "kq", key: key, content: "'abc'")])
        let after = try await store.history(of: Self.canary)
        #expect(after.lastTick != nil && after.unreadable == nil, "\(after)")
    }
}
