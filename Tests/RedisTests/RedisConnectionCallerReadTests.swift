import Foundation
import Synchronization
import Redis
import TestSupport
import Testing

/// A lone caller reads its own reply (decision 0046): it writes its request, reads the reply on its own thread for
/// at most 1 ms and returns without suspending; a reply that takes longer is handed back to the connection's thread,
/// which reads the rest. These tests make the first command connect, so later lone commands take that path, and
/// check what the hand-back, the callers that come meanwhile and a server that closes the socket must not change.
@Suite(.timeLimit(.minutes(1))) struct RedisConnectionCallerReadTests {
    private func connected(_ server: RedisServer) async throws -> RedisConnection {
        let connection = RedisConnection(configuration: try RedisConfiguration(url: server.url))
        #expect(try await connection.send([RedisCommand("PING")]) == [.status("PONG")])
        return connection
    }

    /// Busy in Redis for `micros` microseconds (a Lua loop on `TIME`: the server answers nothing else meanwhile), then
    /// replies `reply`.
    private static func slow(_ micros: Int, reply: String) -> RedisCommand {
        RedisCommand(
            "EVAL",
            """
            local s = redis.call('TIME') local start = s[1] * 1000000 + s[2]
            repeat local n = redis.call('TIME') until n[1] * 1000000 + n[2] - start >= tonumber(ARGV[1])
            return ARGV[2]
            """, "0", String(micros), reply)
    }

    /// Many sequential calls, each alone on the connection: every one gets its own replies, a single command or
    /// several in one request.
    @Test func aLoneCallersRepliesComeBackInOrderCallAfterCall() async throws {
        let server = try RedisServer()
        let connection = try await connected(server)
        defer { connection.close() }
        for round in 1...3000 {
            if round % 3 == 0 {
                let replies = try await connection.send([RedisCommand("INCR", "n"), RedisCommand("ECHO", "r\(round)"), RedisCommand("GET", "n")])
                #expect(replies == [.integer(Int64(round)), .bulk(Array("r\(round)".utf8)), .bulk(Array(String(round).utf8))])
            } else {
                #expect(try await connection.send([RedisCommand("INCR", "n")]) == [.integer(Int64(round))])
            }
        }
    }

    /// A reply slower than the caller's budget (50 ms of Lua) comes back through the thread, whole and in its place;
    /// so do the replies of a request whose first replies the caller had already taken (a fast `INCR`, then the slow
    /// script, then another `INCR`): the hand-back keeps what was read. Fails if the thread is not told to read (the
    /// call never returns) or if the replies taken before the hand-back are lost.
    @Test func aReplySlowerThanTheBudgetComesBackThroughTheThread() async throws {
        let server = try RedisServer()
        let connection = try await connected(server)
        defer { connection.close() }
        for round in 0..<5 {
            #expect(try await connection.send([Self.slow(50_000, reply: "slow-\(round)")]) == [.bulk(Array("slow-\(round)".utf8))])
            let replies = try await connection.send([RedisCommand("INCR", "n"), Self.slow(50_000, reply: "mid-\(round)"), RedisCommand("INCR", "n")])
            #expect(replies == [.integer(Int64(2 * round + 1)), .bulk(Array("mid-\(round)".utf8)), .integer(Int64(2 * round + 2))])
            #expect(try await connection.send([RedisCommand("ECHO", "after-\(round)")]) == [.bulk(Array("after-\(round)".utf8))])
        }
    }

    /// Callers that come while a lone caller reads its reply (one task calling back to back, another every few
    /// milliseconds, when the connection has been alone again for 10 ms) queue, and the thread writes them once the
    /// reader lets go: each gets its own replies, in order. Some of the second task's calls come during a slow reply
    /// too, after the hand-back. Fails if the reader does not wake the thread for them (they never return).
    @Test func aCallerThatComesWhileALoneCallerReadsGetsItsOwnReply() async throws {
        let server = try RedisServer()
        let connection = try await connected(server)
        defer { connection.close() }
        let done = Flags()
        let steady = Task {
            var last: Int64 = 0
            var calls = 0
            while !done.stop.load(ordering: .relaxed) {
                calls += 1
                let commands = calls % 100 == 0 ? [RedisCommand("INCR", "steady"), Self.slow(3_000, reply: "s")] : [RedisCommand("INCR", "steady")]
                let replies = try await connection.send(commands)
                #expect(replies.count == commands.count)
                guard case .integer(let count) = replies[0] else {
                    Issue.record("INCR answered \(replies[0])")
                    return calls
                }
                #expect(count == last + 1)
                last = count
            }
            return calls
        }
        for round in 0..<60 {
            try await Task.sleep(for: .milliseconds(12))  // alone again by then: the steady task reads its own replies
            let replies = try await connection.send([RedisCommand("INCR", "other"), RedisCommand("ECHO", "o\(round)")])
            #expect(replies == [.integer(Int64(round + 1)), .bulk(Array("o\(round)".utf8))])
        }
        done.stop.store(true, ordering: .relaxed)
        #expect(try await steady.value > 60)
    }

    /// The server closing the connection while its caller reads (its request's first command, `CLIENT KILL ... SKIPME no` of its own
    /// connection, is answered, then the socket is closed before the second): the request fails as `connectionLost`,
    /// as it does when the thread reads, and the next command connects afresh.
    @Test func aConnectionClosedWhileTheCallerReadsFailsAsLost() async throws {
        let server = try RedisServer()
        let connection = try await connected(server)
        defer { connection.close() }
        for round in 1...3 {
            guard case .integer(let id) = try await connection.send([RedisCommand("CLIENT", "ID")])[0] else {
                Issue.record("CLIENT ID did not answer an integer")
                return
            }
            await #expect {
                _ = try await connection.send([RedisCommand("CLIENT", "KILL", "ID", String(id), "SKIPME", "no"), RedisCommand("PING")])
            } throws: { error in
                (error as? RedisError)?.code == .connectionLost
            }
            #expect(try await connection.send([RedisCommand("INCR", "n")]) == [.integer(Int64(round))])
        }
    }

    /// Lone callers that never suspend while their replies come quickly still let other tasks have the cooperative
    /// pool: as many back-to-back callers as the pool has threads (each on its own connection, so each is alone), and a
    /// task that ends them once it runs. Without the hold limit (a run of calls completed without suspending is cut
    /// after 2 ms) the callers held every pool thread and the task ran only after each had made its 100,000 calls.
    @Test func loneCallersLeaveThePoolToOtherTasks() async throws {
        let server = try RedisServer()
        let callers = ProcessInfo.processInfo.activeProcessorCount
        var connections: [RedisConnection] = []
        for _ in 0..<callers { connections.append(try await connected(server)) }
        defer { connections.forEach { $0.close() } }
        let flags = Flags()
        let limit = 100_000
        let calls = try await withThrowingTaskGroup(of: Int.self) { group in
            for connection in connections {
                group.addTask {
                    flags.started.add(1, ordering: .relaxed)
                    var calls = 0
                    while !flags.stop.load(ordering: .relaxed) && calls < limit {
                        _ = try await connection.send([RedisCommand("INCR", "n")])
                        calls += 1
                    }
                    return calls
                }
            }
            group.addTask {
                while flags.started.load(ordering: .relaxed) < callers { await Task.yield() }
                try await Task.sleep(for: .milliseconds(200))
                flags.stop.store(true, ordering: .relaxed)
                return 0
            }
            var all: [Int] = []
            for try await count in group { all.append(count) }
            return all
        }
        #expect(calls.allSatisfy { $0 < limit }, "calls made before the stopping task ran: \(calls)")
    }
}

/// Shared between a test's tasks.
private final class Flags: Sendable {
    let stop = Atomic<Bool>(false)
    let started = Atomic<Int>(0)
}
