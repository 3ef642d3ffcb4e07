import Foundation
import HoopoeCore
import Logging
import Redis
import TestSupport
import Testing

/// A heartbeat Redis refuses is reported, once, naming the refused command: the issue saw beats lost without a line
/// (a write sent to the wrong cluster node), and a process without beats looks dead to every health check.
struct HeartbeatLogTests {
    @Test("a refused beat is logged once with the refused command, and beating goes on")
    func refusedBeatIsLogged() async throws {
        let admin = try TestRedis.client()
        defer { admin.close() }
        let user = "beat\(UUID().uuidString.prefix(8).lowercased())"
        try await admin.send("ACL", "SETUSER", user, "on", ">pw", "~*", "+@all", "-zadd")
        defer { Task { _ = try? await admin.send("ACL", "DELUSER", user) } }
        var configuration = try RedisConfiguration(url: TestRedis.url())
        configuration.username = user
        configuration.password = "pw"
        let redis = RedisClient(configuration: configuration)
        defer { redis.close() }
        let lines = CapturedLog()
        let logger = lines.logger
        let heartbeat = Heartbeat(kind: "worker", id: "w1", jobs: JobQueue(redis: redis, namespace: TestRedis.uniquePrefix()), interval: .milliseconds(20), logger: logger)
        let beating = Task { await heartbeat.run() }
        let logged = try await eventually(timeout: .seconds(5)) { lines.all.count >= 1 }
        try await Task.sleep(for: .milliseconds(100))
        beating.cancel()
        await beating.value
        #expect(logged)
        #expect(lines.all.count == 1, "once until the failure changes: \(lines.all)")
        #expect(lines.all.first?.contains("heartbeat not written") == true && lines.all.first?.contains("ZADD") == true, "\(lines.all)")
    }
}
