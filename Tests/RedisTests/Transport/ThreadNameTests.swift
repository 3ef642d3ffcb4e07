import Foundation
import Redis
import TestSupport
import Testing

/// Threads carry the names `top -H` and `ps -L` show: Foundation's `Thread.name` never reached the kernel on Linux.
@Suite struct ThreadNameTests {
    /// A connection's thread is named as its configuration says (the worker's fetch thread is `hoopoe-fetch`).
    @Test func aConnectionsThreadCarriesItsName() async throws {
        let server = try RedisServer()
        let name = "hn-\(UInt32.random(in: 0...UInt32.max))"
        let redis = RedisConnection(configuration: try RedisConfiguration(url: server.url), name: name)
        defer { redis.close() }
        _ = try await redis.send([RedisCommand("PING")])
        let tasks = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")
        let names = tasks.compactMap { try? String(contentsOfFile: "/proc/self/task/\($0)/comm", encoding: .utf8) }
        #expect(names.contains(name + "\n"))
    }

    /// Linux keeps 15 bytes of a name: a longer one is cut there, not refused.
    @Test func aLongNameIsCutToFifteenBytes() async {
        let seen = await withCheckedContinuation { continuation in
            Thread {
                ThreadName.set("hoopoe-sentinel-watch")
                continuation.resume(returning: ThreadName.current)
            }.start()
        }
        #expect(seen == "hoopoe-sentinel")
    }
}
