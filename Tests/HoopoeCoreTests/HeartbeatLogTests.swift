import Foundation
import HoopoeCore
import Logging
import Redis
import Synchronization
import TestSupport
import Testing

/// A heartbeat Redis refuses is reported, once, naming the refused command: the issue saw beats lost without a line
/// (a write sent to the wrong cluster node), and a process without beats looks dead to every health check.
struct HeartbeatLogTests {
    final class Lines: Sendable {
        let lines = Mutex<[String]>([])
        func append(_ line: String) { lines.withLock { $0.append(line) } }
        var all: [String] { lines.withLock { $0 } }
    }

    struct Capture: LogHandler {
        let lines: Lines
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) { lines.append("\(event.level) \(event.message)") }
    }

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
        let lines = Lines()
        let logger = Logger(label: "test") { _ in Capture(lines: lines) }
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
