import Foundation
import HoopoeCore
import HoopoeJSON
import Redis
import TestSupport
import Testing

/// One queue whose key Redis refuses to read (a stream key holding a string: `WRONGTYPE`) fails that queue's row of
/// `hoopoe queues`, named with its key, and the others are shown. It failed the whole command with only
/// "Error: … XLEN: WRONGTYPE", naming no queue and no key (exit 1).
@Suite struct QueuesUnreadableQueueTests {
    @Test func aWrongTypedKeyFailsOnlyItsQueue() async throws {
        let h = try CLIHarness()
        for queue in ["q1", "q2"] {
            try await h.jobs.enqueue(type: "diag.record", payload: ["key": "k", "member": "m"], options: EnqueueOptions(queue: queue))
        }
        let wrongKey = "\(h.namespace):{q2}:stream"
        try await h.redis.send("DEL", wrongKey)
        try await h.redis.send("SET", wrongKey, "oops")

        let (status, output) = try await h.run(["queues"])
        #expect(status == 1, "exit 1 after printing what it read: \(output)")
        #expect(output.split(separator: "\n").contains { $0.hasPrefix("q1 ") }, "q1's row is shown: \(output)")
        #expect(output.contains("queue q2 cannot be read:") && output.contains("WRONGTYPE") && output.contains(wrongKey), "\(output)")
        #expect(output.contains("WORKER") || output.contains("No live workers."), "the rest of the report is printed: \(output)")

        let (jsonStatus, json) = try await h.json(["queues", "--json"])
        #expect(jsonStatus == 1)
        #expect(json["queues"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["q1"], "\(json)")
        let unreadable = try #require(json["unreadable_queues"]?.arrayValue, "\(json)")
        #expect(unreadable.count == 1 && unreadable.first?["name"]?.stringValue == "q2", "\(json)")
        #expect(unreadable.first?["error"]?.stringValue?.contains(wrongKey) == true, "\(json)")
    }
}
