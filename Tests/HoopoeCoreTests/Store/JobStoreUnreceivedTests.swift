import Foundation
@testable import HoopoeCore
import Redis
import Testing

/// Which entries `adopt_unreceived.lua` gives a worker whose fetch reply was lost (decision 0099): its own, newer than
/// the last it received, delivered once. Nothing it received already, nothing delivered again, nothing another worker's.
@Suite struct JobStoreUnreceivedTests {
    @Test func onlyTheLostFetchsDeliveriesAreTaken() async throws {
        let h = try EngineHarness()
        let store = h.jobs.store
        let stream = h.jobs.keys("default").stream
        try await store.createGroups(queues: ["default"])
        for i in 0..<8 { _ = try await h.jobs.enqueue(type: "diag.record", payload: h.diag(key: "\(h.namespace):rec", member: "m\(i)")) }
        func read(_ consumer: String, _ count: Int) async throws -> [String] {
            let reply = try await h.redis.send(RedisCommand("XREADGROUP", ["GROUP", QueueKeys.group, consumer, "COUNT", String(count), "STREAMS", stream, ">"]))
            return (reply.array?.first?.array?.last?.array ?? []).compactMap { $0.array?.first?.string }
        }
        let received = try await read("me", 2)  // its acknowledgement failed: left to its lease
        let other = try await read("other", 1)
        let lost = try await read("me", 4)  // the lost reply's
        let recoveredLater = try await read("other", 1)
        try #require(received.count == 2 && other.count == 1 && lost.count == 4 && recoveredLater.count == 1)
        // Another worker's entry recovered by this one (delivered twice), newer than what it received: not a lost reply's.
        _ = try await h.redis.send("XCLAIM", stream, QueueKeys.group, "me", "0", recoveredLater[0])
        // One of the lost reply's deleted from the stream meanwhile (a queue clear): nothing to run, acknowledged.
        _ = try await h.redis.send("XDEL", stream, lost[3])
        try await Task.sleep(for: .seconds(1))  // idle a second: a renewed entry's idle restarts, the others' do not

        let adopted = try await store.adoptUnreceived(queue: "default", consumer: "me", lastReceived: received.last)
        #expect(adopted.map(\.entryID) == Array(lost.prefix(3)))
        #expect(adopted.allSatisfy { $0.deliveries == 1 && $0.queue == "default" && !$0.bytes.isEmpty })
        let pending = try await h.redis.send("XPENDING", stream, QueueKeys.group, "-", "+", "100").array ?? []
        let rows = pending.compactMap { row -> (id: String, consumer: String, idle: Int, count: Int)? in
            guard let r = row.array, r.count == 4, let id = r[0].string, let consumer = r[1].string, let idle = r[2].int, let count = r[3].int else { return nil }
            return (id, consumer, idle, count)
        }
        #expect(!rows.contains { $0.id == lost[3] }, "the deleted entry is acknowledged")
        // Compared, not timed: whatever the machine's load, the untouched entries were idle a second longer.
        let untouched = rows.filter { received.contains($0.id) || $0.id == recoveredLater[0] }
        let leastUntouched = untouched.map(\.idle).min() ?? 0
        #expect(untouched.count == 3 && leastUntouched >= 1000, "left as they were: \(untouched)")
        for row in rows where lost.prefix(3).contains(row.id) {
            #expect(row.consumer == "me" && row.count == 1 && row.idle + 900 <= leastUntouched, "renewed, its delivery count kept: \(row)")
        }
        #expect(rows.first { $0.id == other[0] }?.consumer == "other")

        // Before its first fetch was received, everything pending to it once is a lost reply's.
        let first = try await store.adoptUnreceived(queue: "default", consumer: "me", lastReceived: nil)
        #expect(first.map(\.entryID) == received + Array(lost.prefix(3)))
    }
}
