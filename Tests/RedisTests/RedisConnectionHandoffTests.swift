import Foundation
import Synchronization
import Redis
import TestSupport
import Testing

/// A request that finds its connection idle is written by its caller, and the connection's thread, parked on the
/// socket, reads the reply (decision 0036). These tests make the first command connect, so every later one takes
/// that path, and check what must not change with it: timeouts, blocking allowances, big writes, `close()`, a server
/// that closed the idle socket, order under concurrency.
@Suite struct RedisConnectionHandoffTests {
    private func connected(_ server: RedisServer, commandTimeout: Duration = .seconds(5)) async throws -> RedisConnection {
        var configuration = try RedisConfiguration(url: server.url)
        configuration.commandTimeout = commandTimeout
        let connection = RedisConnection(configuration: configuration)
        #expect(try await connection.send([RedisCommand("PING")]) == [.status("PONG")])
        return connection
    }

    /// No reply within the command timeout is a timeout (naming the window), though the caller wrote the command and
    /// the thread only learns of it when its wait on the idle socket ends; the next command connects afresh.
    @Test func anUnansweredCommandOnAnIdleConnectionTimesOut() async throws {
        let server = try RedisServer()
        let connection = try await connected(server, commandTimeout: .milliseconds(300))
        defer { connection.close() }
        let start = ContinuousClock.now
        await #expect {
            _ = try await connection.send([RedisCommand("BLPOP", "nothing-here", "3")])  // no blocking allowance
        } throws: { error in
            let error = error as? RedisError
            return error?.code == .timeout && error?.message == "no reply within 0.3 s"
        }
        // The error's kind and window prove the timeout ended the wait (the BLPOP's own end, at 3 s, would have been a
        // nil reply); no upper bound on the wall clock, which a loaded test pool stretches.
        let waited = ContinuousClock.now - start
        #expect(waited >= .milliseconds(290), "timed out after \(waited)")
        #expect(try await connection.send([RedisCommand("PING")]) == [.status("PONG")])
    }

    /// A blocking command's allowance holds on a connection whose thread was parked on the idle socket (a blocking
    /// command is handed to the thread, never written by its caller): a 2 s BLPOP under a 1 s timeout returns its
    /// nil reply. (At 1 s under 300 ms, a loaded machine could read the reply more than 300 ms late.)
    @Test func aBlockingCommandOnAnIdleConnectionOutlivesTheCommandTimeout() async throws {
        let server = try RedisServer()
        let connection = try await connected(server, commandTimeout: .seconds(1))
        defer { connection.close() }
        var pop = RedisCommand("BLPOP", "nothing-here", "2")
        pop.blockingSeconds = 2
        let start = ContinuousClock.now
        #expect(try await connection.send([pop]) == [.null])
        #expect(ContinuousClock.now - start >= .milliseconds(1_900))
    }

    /// A request larger than the socket takes at once leaves partly from the caller, the rest from the thread, and
    /// arrives whole: 8 MiB set, read back byte for byte.
    @Test func aRequestLargerThanTheSocketBufferArrivesWhole() async throws {
        let server = try RedisServer()
        let connection = try await connected(server)
        defer { connection.close() }
        // Built and compared with the standard library's bulk operations: a closure or `==` per byte, unoptimised in a
        // test build, held a cooperative thread for seconds and stalled every other test of the parallel phase. A
        // pattern of 4,093 bytes (prime, so no chunk of a power-of-two size repeats it) still catches a piece out of order.
        let pattern = (0..<4093).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 5) }
        var value: [UInt8] = []
        value.reserveCapacity((8 << 20) + pattern.count)
        while value.count < 8 << 20 { value.append(contentsOf: pattern) }
        value.removeLast(value.count - (8 << 20))
        var set = RedisCommand("SET", "big")
        set.append(bytes: value)
        #expect(try await connection.send([set, RedisCommand("STRLEN", "big")]) == [.status("OK"), .integer(8 << 20)])
        let replies = try await connection.send([RedisCommand("GET", "big")])
        guard replies.count == 1, case .bulk(let read) = replies[0] else { Issue.record("GET replied \(replies.count) replies"); return }
        #expect(read.count == value.count && read.withUnsafeBytes { a in value.withUnsafeBytes { b in memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0 } })
    }

    /// `close()` right after an idle connection's caller wrote its command still delivers that command's reply (the
    /// work already handed over runs; the server is paused so the reply comes after the close); later calls fail
    /// with `closed`.
    @Test func closeLetsACallerWrittenCommandFinish() async throws {
        let server = try RedisServer()
        let connection = try await connected(server)
        let control = try RedisClient(url: server.url)
        defer { control.close() }
        _ = try await control.send("CLIENT", "PAUSE", "300", "ALL")
        // Started at once (a plain `Task` may wait past the close for a thread on a loaded machine, and fail `closed`).
        let waiting = Task.immediate { try await connection.send([RedisCommand("ECHO", "written")]) }
        try await Task.sleep(for: .milliseconds(100))
        connection.close()
        #expect(try await waiting.value == [.bulk(Array("written".utf8))])
        await #expect {
            _ = try await connection.send([RedisCommand("PING")])
        } throws: { error in
            (error as? RedisError)?.code == .closed
        }
    }

    /// The server closing the idle socket (`CLIENT KILL`) is noticed before the next command is written — by the
    /// parked thread or the caller's own check — so that command reconnects and succeeds once the close has reached
    /// this side. A command sent at once may race the close itself: on a loaded machine the kernel can deliver the
    /// server's FIN after the write (`make test`'s parallel phase once did). Then it fails as lost, was never run
    /// (the next one counts 1), and the next one reconnects; never a wrong reply, never a command run twice.
    @Test func aSocketTheServerClosedWhileIdleIsReplacedBeforeWriting() async throws {
        let server = try RedisServer()
        let connection = try await connected(server)
        defer { connection.close() }
        let killer = try RedisClient(url: server.url)
        defer { killer.close() }
        for pause in [0, 100] {
            let killed = try await killer.send("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes")
            #expect(killed != .integer(0))
            if pause > 0 { try await Task.sleep(for: .milliseconds(pause)) }
            let increment = [RedisCommand("INCR", "counter")]
            if pause == 0 {
                do {
                    #expect(try await connection.send(increment) == [.integer(1)])
                } catch let error as RedisError where error.code == .connectionLost {
                    #expect(try await connection.send(increment) == [.integer(1)], "the lost INCR did not run")
                }
            } else {
                #expect(try await connection.send(increment) == [.integer(2)])
            }
        }
    }

    /// Concurrent callers on an idle connection: one writes, the rest queue behind it; every caller gets its own
    /// replies, in order, and a sequence of increments per caller comes back strictly increasing.
    @Test func concurrentCallersGetTheirOwnRepliesInOrder() async throws {
        let server = try RedisServer()
        let connection = try await connected(server)
        defer { connection.close() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for caller in 0..<20 {
                group.addTask {
                    var last: Int64 = 0
                    for round in 0..<200 {
                        if round % 50 == 0 { try await Task.sleep(for: .milliseconds(5)) }  // let the connection go idle
                        let replies = try await connection.send([RedisCommand("INCR", "caller-\(caller)"), RedisCommand("ECHO", "\(caller)-\(round)")])
                        guard case .integer(let count) = replies[0] else {
                            Issue.record("INCR answered \(replies[0])")
                            return
                        }
                        #expect(count == last + 1)
                        #expect(replies[1] == .bulk(Array("\(caller)-\(round)".utf8)))
                        last = count
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    /// Callers that come while others' requests wait on a paused server (`CLIENT PAUSE WRITE`, lifted only once
    /// every caller has handed its request in) are written behind them by the thread, one of them too large for the
    /// socket to take at once: every caller gets its own replies, and the increments they share come back each
    /// exactly once.
    @Test func callersBehindRequestsInFlightGetTheirOwnReplies() async throws {
        let server = try RedisServer()
        let connection = try await connected(server)
        defer { connection.close() }
        let control = try RedisClient(url: server.url)
        defer { control.close() }
        let big = {
            var set = RedisCommand("SET", "big")
            set.append(bytes: [UInt8](repeating: 0x61, count: 4 << 20))
            return set
        }()
        for wave in 0..<2 {
            _ = try await control.send("CLIENT", "PAUSE", "20000", "WRITE")  // INCR waits; CLIENT UNPAUSE does not
            let handedIn = HandedIn()
            let counts = try await withThrowingTaskGroup(of: Int64?.self) { group in
                for caller in 0..<40 {
                    group.addTask {
                        if caller % 8 == 0 { try await Task.sleep(for: .milliseconds(caller)) }  // some come later
                        let commands = caller == 20 ? [big, RedisCommand("INCR", "shared"), RedisCommand("ECHO", "\(wave)-\(caller)")]
                            : [RedisCommand("INCR", "shared"), RedisCommand("ECHO", "\(wave)-\(caller)")]
                        handedIn.count.withLock { $0 += 1 }
                        let replies = try await connection.send(commands)
                        #expect(replies.count == commands.count)
                        #expect(replies.last == .bulk(Array("\(wave)-\(caller)".utf8)))
                        if caller == 20 { #expect(replies.first == .status("OK")) }
                        guard case .integer(let count) = replies[replies.count - 2] else {
                            Issue.record("INCR answered \(replies[replies.count - 2])")
                            return nil
                        }
                        return count
                    }
                }
                // Every request handed in while the server holds them all: the later ones went out behind the first.
                while handedIn.count.withLock({ $0 }) < 40 { try await Task.sleep(for: .milliseconds(10)) }
                try await Task.sleep(for: .milliseconds(100))
                _ = try await control.send("CLIENT", "UNPAUSE")
                var counts: [Int64] = []
                for try await count in group { counts.append(count ?? 0) }
                return counts
            }
            #expect(counts.sorted() == Array(Int64(wave * 40 + 1)...Int64(wave * 40 + 40)))
        }
    }

    /// A request written behind one that gets no reply within its window fails too, as lost (the connection it was
    /// written on is closed with the first one's timeout), rather than waiting or taking another's reply; the next
    /// command connects afresh. On a congested pool the second may instead be held back behind the first (the thread's
    /// own batch: decision 0042) and never written on that connection: it then goes out on the fresh one and times out
    /// there after a window of its own (the server still holds writes), which is as right; it is told apart by when it
    /// ends (failed at once with the first, or a window after it), and neither takes a reply.
    @Test func aRequestWrittenBehindOneThatTimesOutFailsAsLost() async throws {
        let server = try RedisServer()
        // The window is wide enough for the second task to start within it in `make test`'s congested parallel phase
        // (at 1 s it once started after the first had timed out, connected afresh and timed out in turn).
        let connection = try await connected(server, commandTimeout: .seconds(3))
        defer { connection.close() }
        let control = try RedisClient(url: server.url)
        defer { control.close() }
        _ = try await control.send("CLIENT", "PAUSE", "20000", "WRITE")  // INCR waits; CLIENT UNPAUSE does not
        // `Task.immediate`: each request is handed in before this test goes on, not whenever a congested pool starts
        // its task (a second task once started after the first's window had closed, on a fresh connection).
        let first = Task.immediate { try await connection.send([RedisCommand("INCR", "first")]) }
        try await Task.sleep(for: .milliseconds(50))  // the second comes while the first waits
        let second = Task.immediate { try await connection.send([RedisCommand("INCR", "second")]) }
        let clock = ContinuousClock()
        await #expect {
            _ = try await first.value
        } throws: { error in
            (error as? RedisError)?.code == .timeout
        }
        let firstFailed = clock.now
        let secondError = await #expect(throws: RedisError.self) { _ = try await second.value }
        let after = clock.now - firstFailed
        switch secondError?.code {
        case .connectionLost?: #expect(after < .seconds(2), "written behind the first: it fails with it, at once (\(after))")
        case .timeout?: #expect(after >= .milliseconds(2500), "held back, then sent afresh: a whole window of its own (\(after))")
        default: Issue.record("the second request failed with \(String(describing: secondError))")
        }
        _ = try await control.send("CLIENT", "UNPAUSE")
        #expect(try await connection.send([RedisCommand("ECHO", "after")]) == [.bulk(Array("after".utf8))])
    }

    /// Requests that come while the thread's own batch awaits its replies are written only once those replies are
    /// read, so whatever comes during a round trip leaves together in one `send` (decision 0042; written at once, the
    /// worker's requests went out nearly one a `send`). The batch's write is held up by a frozen server (`DEBUG
    /// SLEEP`, a request larger than the socket buffers) while ten callers hand theirs in; then its `BLPOP` waits in
    /// Redis, and meanwhile the server must hold none of their bytes (`qbuf=0`). Afterwards every caller gets its own
    /// replies, in order.
    @Test func requestsThatComeWhileTheThreadsBatchAwaitsItsRepliesWaitForThem() async throws {
        let server = try RedisServer(arguments: ["--enable-debug-command", "yes"])
        let connection = try await connected(server)
        defer { connection.close() }
        #expect(try await connection.send([RedisCommand("CLIENT", "SETNAME", "subject")]) == [.status("OK")])
        let control = try RedisClient(url: server.url)
        defer { control.close() }
        let freeze = Task { try await control.send("DEBUG", "SLEEP", "0.8") }
        try await Task.sleep(for: .milliseconds(150))  // the server sleeps: it reads nothing
        var big = RedisCommand("SET", "big")
        big.append(bytes: [UInt8](repeating: 0x61, count: 32 << 20))
        // A blocking command: never written by its caller, so the thread writes the batch (and waits in the write).
        // It blocks until the test pushes to its list (below), however slow a loaded machine makes the looking.
        var pop = RedisCommand("BLPOP", "nothing", "30")
        pop.blockingSeconds = 30
        let batch = Task { try await connection.send([big, pop]) }
        try await Task.sleep(for: .milliseconds(100))
        let handedIn = HandedIn()
        let callers = Task {
            try await withThrowingTaskGroup(of: (Int, [RedisReply]).self) { group in
                for caller in 0..<10 {
                    group.addTask {
                        handedIn.count.withLock { $0 += 1 }
                        return (caller, try await connection.send([RedisCommand("INCR", "shared"), RedisCommand("ECHO", "\(caller)")]))
                    }
                }
                var replies: [(Int, [RedisReply])] = []
                for try await reply in group { replies.append(reply) }
                return replies
            }
        }
        while handedIn.count.withLock({ $0 }) < 10 { try await Task.sleep(for: .milliseconds(10)) }
        _ = try await freeze.value
        // Wait until the batch's BLPOP blocks in Redis, give a write behind it time to arrive, then look.
        var line = ""
        for _ in 0..<200 {
            line = try await subjectLine(control)
            if line.contains("cmd=blpop") && line.contains("flags=b") { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(line.contains("flags=b"), "the batch's BLPOP never blocked: \(line)")
        try await Task.sleep(for: .milliseconds(150))
        line = try await subjectLine(control)
        #expect(line.contains("flags=b") && line.contains(" qbuf=0 "), "bytes written behind the batch before its replies: \(line)")
        _ = try await control.send("LPUSH", "nothing", "released")  // ends the BLPOP: its replies, then the callers'
        #expect(try await batch.value == [.status("OK"), .array([.bulk(Array("nothing".utf8)), .bulk(Array("released".utf8))])])
        let replies = try await callers.value
        #expect(replies.count == 10)
        for (caller, reply) in replies {
            #expect(reply.count == 2)
            #expect(reply.last == .bulk(Array("\(caller)".utf8)))
        }
        #expect(Set(replies.compactMap { if case .integer(let n) = $0.1.first { n } else { nil } }) == Set(Int64(1)...Int64(10)))
    }

    /// The `CLIENT LIST` line of the connection named `subject`.
    private func subjectLine(_ control: RedisClient) async throws -> String {
        guard case .bulk(let bytes) = try await control.send("CLIENT", "LIST") else { return "" }
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n").first { $0.contains("name=subject ") }.map(String.init) ?? ""
    }
}

/// How many callers have handed their request in.
private final class HandedIn: Sendable {
    let count = Mutex(0)
}
