import Foundation
import HoopoeScheduler
import Redis
import TestSupport

/// A ``ScheduledJobSink`` that does what the engine's will, against real Redis: a per-task-and-tick key
/// set with `SET NX EX`, and the "job" pushed only when that key was new, both in one script so the
/// check and the enqueue are atomic. Jobs land in a list as `<task>@<tick Unix seconds>`.
struct RedisTestSink: ScheduledJobSink {
    let redis: RedisClient
    /// Key prefix, unique per test.
    let prefix: String

    /// The list of enqueued "jobs".
    var listKey: String { "\(prefix):enqueued" }

    func enqueueTick(task: ScheduledTask, tick: Date) async throws -> TickEnqueue {
        let seconds = String(Int64(tick.timeIntervalSince1970))
        let reply = try await redis.run(
            Self.enqueueOnce, keys: ["\(prefix):once:\(task.name):\(seconds)", listKey], arguments: ["\(task.name)@\(seconds)"])
        return TickEnqueue(added: reply.int == 1, queue: task.queue)
    }

    /// Every entry of the list, in push order.
    func enqueued() async throws -> [String] {
        try await redis.send("LRANGE", listKey, "0", "-1").array?.compactMap(\.string) ?? []
    }

    /// KEYS[1] → the once key; KEYS[2] → the list; ARGV[1] → the entry. Returns 1 if pushed, 0 if a duplicate.
    static let enqueueOnce = RedisScript(
        name: "test_enqueue_tick_once",
        source: """
            if redis.call('SET', KEYS[1], '1', 'NX', 'EX', 86400) then
              redis.call('RPUSH', KEYS[2], ARGV[1])
              return 1
            end
            return 0
            """)
}

/// The Redis the scheduler's tests use: `REDIS_URL` when set (as `make test` does), otherwise a private
/// `redis-server` started for the test and stopped when this value goes away.
struct SchedulerTestRedis: Sendable {
    let url: String
    private let server: RedisServer?

    init() throws {
        if let url = ProcessInfo.processInfo.environment["REDIS_URL"], !url.isEmpty {
            self.url = url
            server = nil
        } else {
            let server = try RedisServer()
            self.url = server.url
            self.server = server
        }
    }

    /// A new client (one connection); the caller closes it.
    func client() throws -> RedisClient {
        var configuration = try RedisConfiguration(url: url)
        configuration.poolSize = 1
        return RedisClient(configuration: configuration)
    }

    /// A key prefix no other test uses.
    func uniquePrefix(_ name: String = #function) -> String {
        "hoopoe-test:\(name.filter { $0.isLetter || $0.isNumber }):\(UUID().uuidString.prefix(8))"
    }
}
