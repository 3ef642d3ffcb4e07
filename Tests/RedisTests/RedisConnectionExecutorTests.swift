import Foundation
import Redis
import TestSupport
import Testing

/// A task that prefers a connection's executor runs on the connection's own thread, between its writes and reads
/// (decision 0061): the worker's fetch loop goes on where its reply was read. These tests tell the threads apart by
/// name (``ThreadName``), which is what `top -H` shows.
@Suite(.timeLimit(.minutes(1))) struct RedisConnectionExecutorTests {
    /// A thread name no other test uses (tests share the process), within Linux's 15 bytes.
    private static func uniqueName() -> String { "hx-\(UInt32.random(in: 0...UInt32.max))" }

    private func connection(_ server: RedisServer, name: String) throws -> RedisConnection {
        RedisConnection(configuration: try RedisConfiguration(url: server.url), name: name)
    }

    /// After a reply, the task goes on on the connection's thread, and what it sends from there is written without
    /// waking anyone (a hang here would be a request left unwritten).
    @Test func aTaskPreferringTheExecutorGoesOnOnTheConnectionsThread() async throws {
        let server = try RedisServer()
        let name = Self.uniqueName()
        let redis = try connection(server, name: name)
        defer { redis.close() }
        let threads = try await withTaskExecutorPreference(redis.executor) {
            var seen: [String] = []
            for value: Int64 in 0..<20 {
                let reply = try await redis.send([RedisCommand("INCR", "executor:count")])
                #expect(reply == [.integer(value + 1)])
                seen.append(ThreadName.current)
            }
            return seen
        }
        #expect(threads == Array(repeating: name, count: 20))
    }

    /// A task waiting on something else (a timer, another connection's reply) is resumed on the connection's thread
    /// too: the parked thread is woken for it.
    @Test func aParkedThreadWakesForItsTasks() async throws {
        let server = try RedisServer()
        let name = Self.uniqueName()
        let redis = try connection(server, name: name)
        let other = try connection(server, name: Self.uniqueName())
        defer {
            redis.close()
            other.close()
        }
        _ = try await redis.send([RedisCommand("PING")])  // connected, then parked idle
        let threads = try await withTaskExecutorPreference(redis.executor) {
            try await Task.sleep(for: .milliseconds(20))
            let afterSleep = ThreadName.current
            #expect(try await other.send([RedisCommand("PING")]) == [.status("PONG")])
            return [afterSleep, ThreadName.current]
        }
        #expect(threads == [name, name])
    }

    /// A task on the connection's thread may take its time after a reply: here it restarts Redis. What it sends then
    /// is not written onto the socket the dead server closed (which fails as lost): the thread vouches for the socket
    /// only for a moment after it saw it open, and checks it first after longer, so the command reconnects and runs.
    @Test func whatATaskSendsAfterTakingItsTimeReconnectsIfRedisRestartedMeanwhile() async throws {
        let server = try RedisServer()
        let redis = try connection(server, name: Self.uniqueName())
        defer { redis.close() }
        let (thread, reply) = try await withTaskExecutorPreference(redis.executor) {
            _ = try await redis.send([RedisCommand("SET", "k", "v")])
            let thread = ThreadName.current
            server.kill()  // between the reply and the next batch, on the connection's own thread
            try server.start()
            return (thread, try await redis.send([RedisCommand("INCR", "n")]))
        }
        #expect(thread.hasPrefix("hx-"), "the task went on on the connection's thread")
        #expect(reply == [.integer(1)])
    }

    /// Once the connection is closed and its thread has ended, a task that still prefers its executor runs on the
    /// pool instead of waiting for a thread that is gone.
    @Test func afterCloseTasksRunElsewhere() async throws {
        let server = try RedisServer()
        let name = Self.uniqueName()
        let redis = try connection(server, name: name)
        _ = try await redis.send([RedisCommand("PING")])
        #expect(Self.threadNames().contains(name))
        redis.close()
        let deadline = ContinuousClock.now + .seconds(10)
        while Self.threadNames().contains(name), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(!Self.threadNames().contains(name), "the connection's thread did not end")
        let thread = try await withTaskExecutorPreference(redis.executor) {
            try await Task.sleep(for: .milliseconds(5))
            return ThreadName.current
        }
        #expect(thread != name)
    }

    /// An executor kept after its connection is gone (closed, its thread ended, released) hands its jobs to the
    /// global executor: a task preferring it runs, and nothing touches the freed connection.
    @Test func anExecutorOutlivingItsConnectionRunsTasksElsewhere() async throws {
        let server = try RedisServer()
        let name = Self.uniqueName()
        var redis: RedisConnection? = try connection(server, name: name)
        _ = try await redis?.send([RedisCommand("PING")])
        let executor = try #require(redis?.executor)
        weak let released = redis
        redis?.close()
        redis = nil
        let deadline = ContinuousClock.now + .seconds(10)
        while released != nil, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(released == nil, "the closed connection was not released")
        let thread = try await withTaskExecutorPreference(executor) {
            try await Task.sleep(for: .milliseconds(5))
            return ThreadName.current
        }
        #expect(thread != name)
    }

    /// The names of this process's threads now.
    private static func threadNames() -> [String] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        return tasks.compactMap { try? String(contentsOfFile: "/proc/self/task/\($0)/comm", encoding: .utf8) }
            .map { $0.trimmingCharacters(in: .newlines) }
    }
}
