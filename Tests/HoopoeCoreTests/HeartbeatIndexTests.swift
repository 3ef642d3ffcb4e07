import Foundation
import HoopoeCore
import Redis
import TestSupport
import Testing

/// A beat prunes the processes index of entries older than a day: readers prune it too, but a deployment without any
/// (no health check, no dashboard) kept one entry per crashed process for ever.
@Suite struct HeartbeatIndexTests {
    @Test func aBeatRemovesIndexEntriesOlderThanADay() async throws {
        let space = try TestNamespace()
        let index = "\(space.namespace):processes"
        let now = Date().timeIntervalSince1970
        try await space.redis.send("ZADD", index, String(now - 2 * 86_400), "crashed-long-ago", String(now - 100), "crashed-recently")
        try await Heartbeat(kind: "worker", id: "w1", jobs: space.jobs).beat()
        let members = Set((try await space.redis.send("ZRANGE", index, "0", "-1").array ?? []).compactMap(\.string))
        #expect(members == ["w1", "crashed-recently"])
    }
}
