import Foundation
import HoopoeCore
import Redis
import TestSupport
import Testing

/// `liveProcesses` read an error reply to a process's `HGETALL` as an empty hash, "the process is gone", and pruned it
/// from the index: a reader whose ACL lacked `HGETALL` (or a loading replica) removed every live worker from
/// `hoopoe queues`, the health check and the dashboard until each beat again.
@Suite struct LiveProcessesErrorsTests {
    private func addProcess(_ admin: RedisClient, namespace: String, id: String) async throws {
        _ = try await admin.pipeline([
            RedisCommand("HSET", "\(namespace):process:\(id)", "kind", "worker", "host", "h", "pid", "1", "ttl", "15"),
            RedisCommand("EXPIRE", "\(namespace):process:\(id)", "15"),
            RedisCommand("ZADD", "\(namespace):processes", "1", id),
        ])
    }

    @Test func aRefusedReadIsThrownAndPrunesNothing() async throws {
        let admin = try TestRedis.client()
        defer { admin.close() }
        let namespace = TestRedis.uniquePrefix("live-acl")
        try await addProcess(admin, namespace: namespace, id: "w1")
        let user = "live-acl-\(UInt32.random(in: 0...UInt32.max))"
        try await admin.send(RedisCommand("ACL", ["SETUSER", user, "on", ">pw", "~*", "&*", "+@all", "-hgetall"]))
        let narrow = try RedisClient(url: try TestRedis.url().replacingOccurrences(of: "redis://", with: "redis://\(user):pw@"))
        var refusal: RedisError?
        do {
            _ = try await JobQueue(redis: narrow, namespace: namespace).liveProcesses()
        } catch let error as RedisError {
            refusal = error
        }
        narrow.close()
        _ = try await admin.send("ACL", "DELUSER", user)
        #expect(refusal.map { "\($0)".contains("HGETALL") } == true, "a refused HGETALL read as no process: \(String(describing: refusal))")
        let index = (try await admin.send("ZRANGE", "\(namespace):processes", "0", "-1").array ?? []).compactMap(\.string)
        #expect(index == ["w1"])
        #expect(try await JobQueue(redis: admin, namespace: namespace).liveProcesses().map(\.id) == ["w1"])
    }

    /// A key of another type where a record should be is no process: pruned from the index, the others listed, no error.
    @Test func aKeyOfAnotherTypeIsSkippedNotAFailure() async throws {
        let admin = try TestRedis.client()
        defer { admin.close() }
        let namespace = TestRedis.uniquePrefix("live-type")
        try await addProcess(admin, namespace: namespace, id: "w1")
        _ = try await admin.pipeline([
            RedisCommand("SET", "\(namespace):process:w2", "oops"), RedisCommand("ZADD", "\(namespace):processes", "2", "w2"),
        ])
        #expect(try await JobQueue(redis: admin, namespace: namespace).liveProcesses().map(\.id) == ["w1"])
        let index = (try await admin.send("ZRANGE", "\(namespace):processes", "0", "-1").array ?? []).compactMap(\.string)
        #expect(index == ["w1"])
    }
}
