import Foundation
@testable import Redis
import Synchronization
import TestSupport
import Testing

/// Connection life: restarts, refusals, credentials. Each test owns a private server it may kill.
@Suite struct RedisConnectionTests {
    /// The seam Sentinel follows a failover with: `address` is asked before every connect, and `dropConnection()`
    /// makes the next batch connect again — until then the connection stays where it is.
    @Test func dropConnectionReconnectsWhereAddressSaysNow() async throws {
        let first = try RedisServer()
        let second = try RedisServer()
        let target = Mutex(first.port)
        let connection = RedisConnection(configuration: try RedisConfiguration(url: first.url)) { () throws(RedisError) in
            .tcp(host: "127.0.0.1", port: target.withLock { $0 })
        }
        defer { connection.close() }
        _ = try await connection.send([RedisCommand("SET", "where", "first")])
        target.withLock { $0 = second.port }
        #expect(try await connection.send([RedisCommand("GET", "where")]) == [.bulk(Array("first".utf8))])
        connection.dropConnection()
        #expect(try await connection.send([RedisCommand("GET", "where")]) == [.null])
        _ = try await connection.send([RedisCommand("SET", "where", "second")])
        #expect(try await connection.send([RedisCommand("GET", "where")]) == [.bulk(Array("second".utf8))])
    }

    /// Sentinel mode (`leavesARefusingNode`): a write the node refuses as not the primary (`READONLY`: a primary
    /// demoted under the connection) makes the connection's next batch reconnect, asking `address` again, whether its
    /// caller read the refusal (a lone call) or its thread did (calls written together); the replies read with the
    /// refusal are all read. A connection outside Sentinel mode leaves too (session 57: it stayed, refused for good).
    /// Nothing else is dropped: until
    /// session 37 the client dropped every connection on a refusal, and one already on the new primary could lose a
    /// write in flight that had run. (A fresh connection checks `ROLE`, so the node is demoted after they connect.)
    /// A transaction whose node was demoted between its queued writes and its `EXEC` is refused as a whole, with the
    /// reason after a colon and no dash (`EXECABORT Transaction discarded because of: READONLY …`): it ran nothing and
    /// is a refusal as not the primary, to be sent again to the new one. It was read as a plain error: not retried, and
    /// the connection stayed on the demoted node.
    @Test func aTransactionAbortedByADemotionIsARefusalAsNotThePrimary() async throws {
        let first = try RedisServer()
        let second = try RedisServer()
        let admin = try RedisClient(url: first.url)
        defer { admin.close() }
        let connection = RedisConnection(configuration: try RedisConfiguration(url: first.url), address: { .tcp(host: "127.0.0.1", port: first.port) })
        defer { connection.close() }
        #expect(try await connection.send([RedisCommand("MULTI"), RedisCommand("SET", "k", "v")]) == [.status("OK"), .status("QUEUED")])
        try await admin.send("REPLICAOF", "127.0.0.1", String(second.port))  // demoted between the queued write and EXEC
        let exec = try await connection.send([RedisCommand("EXEC")])[0]
        #expect(exec.errorMessage?.hasPrefix("EXECABORT") == true, "\(exec)")
        #expect(exec.refusesAsNotPrimary, "\(exec)")
    }

    @Test func aRefusedWriteMakesAConnectionLeaveItsNode() async throws {
        let first = try RedisServer()
        let second = try RedisServer()
        let admin = (first: try RedisClient(url: first.url), second: try RedisClient(url: second.url))
        defer { admin.first.close(); admin.second.close() }
        let target = Mutex(first.port)
        let address: @Sendable () throws(RedisError) -> RedisConfiguration.Endpoint = { .tcp(host: "127.0.0.1", port: target.withLock { $0 }) }
        let follows = RedisConnection(configuration: try RedisConfiguration(url: first.url), leavesARefusingNode: true, address: address)
        let stays = RedisConnection(configuration: try RedisConfiguration(url: first.url), address: address)
        defer { follows.close(); stays.close() }
        func refused(_ reply: RedisReply) -> Bool { reply.errorMessage?.hasPrefix("READONLY") == true }
        for connection in [follows, stays] {
            #expect(try await connection.send([RedisCommand("PING")]) == [.status("PONG")])  // connected to the primary
        }
        try await admin.first.send("REPLICAOF", "127.0.0.1", String(second.port))  // demoted under them
        for connection in [follows, stays] {
            try await Task.sleep(for: .milliseconds(50))  // its thread parked: a lone call then reads its own reply
            let replies = try await connection.send([RedisCommand("SET", "k", "v"), RedisCommand("PING")])
            #expect(refused(replies[0]))
            #expect(replies[1] == .status("PONG"))  // read behind the refusal, not cut short
        }
        target.withLock { $0 = second.port }
        #expect(try await follows.send([RedisCommand("SET", "k", "lone")]) == [.status("OK")])  // on the new primary now
        // One server's connection too (a name or a virtual IP moved to the new primary): it stayed on the demoted node,
        // refused for good, while Redis kept the socket open.
        #expect(try await stays.send([RedisCommand("SET", "k", "x")]) == [.status("OK")])

        // The thread reads the refusals: the calls queue behind a blocking read, so the thread writes them, together.
        try await admin.first.send("REPLICAOF", "NO", "ONE")
        try await admin.second.send("REPLICAOF", "127.0.0.1", String(first.port))  // demoted under `follows` too
        // A read (a replica serves it), long enough that both calls arrive while it blocks even on a loaded machine:
        // at 300 ms, CI once started the second call after the first's refusal was read, and it met the demoted node
        // on a fresh connection (refused at connect, `ROLE`), not a refusal.
        var wait = RedisCommand("XREAD", "BLOCK", "2000", "STREAMS", "nothing-here", "$")
        wait.blockingSeconds = 2
        async let blocked = follows.send([wait])
        try await second.waitUntilBlocked()
        async let one = follows.send([RedisCommand("SET", "a", "1")])
        async let two = follows.send([RedisCommand("SET", "b", "1")])
        let replies = try await [one[0], two[0]]
        _ = try await blocked
        #expect(replies.allSatisfy(refused), "\(replies)")
        target.withLock { $0 = first.port }
        #expect(try await follows.send([RedisCommand("SET", "k", "together")]) == [.status("OK")])
        #expect(try await admin.first.send("GET", "k") == .bulk(Array("together".utf8)))
    }

    /// A blocking read on a connection that is dropped ends at once with `connectionLost` (the command may have
    /// run), not when its 30 s are up; the next command reconnects.
    @Test func dropConnectionInterruptsABlockingRead() async throws {
        let server = try RedisServer()
        let connection = RedisConnection(configuration: try RedisConfiguration(url: server.url))
        defer { connection.close() }
        #expect(try await connection.send([RedisCommand("PING")]) == [.status("PONG")])  // connected before the read
        var pop = RedisCommand("BLPOP", "nothing-here", "30")
        pop.blockingSeconds = 30
        let waiting = Task { try await connection.send([pop]) }
        try await server.waitUntilBlocked()  // not a fixed sleep: a loaded machine could drop an idle connection
        let start = ContinuousClock.now
        connection.dropConnection()
        await #expect {
            try await waiting.value
        } throws: { error in
            (error as? RedisError)?.code == .connectionLost
        }
        #expect(ContinuousClock.now - start < .seconds(10))
        #expect(try await connection.send([RedisCommand("PING")]) == [.status("PONG")])
    }

    /// `dropConnection(keeping:)` (what a Sentinel move calls, keeping the new primary) leaves a connection on that
    /// address alone — its blocked read runs to its end — and drops one on any other address.
    @Test func aDropKeepingTheAddressAConnectionIsOnLeavesItAlone() async throws {
        let server = try RedisServer()
        let connection = RedisConnection(configuration: try RedisConfiguration(url: server.url))
        defer { connection.close() }
        #expect(try await connection.send([RedisCommand("PING")]) == [.status("PONG")])
        func blockedRead() async throws -> Task<[RedisReply], any Error> {
            var pop = RedisCommand("BLPOP", "nothing-here", "1")
            pop.blockingSeconds = 1
            let waiting = Task { [pop] in try await connection.send([pop]) }
            try await server.waitUntilBlocked()
            return waiting
        }
        let kept = try await blockedRead()
        connection.dropConnection(keeping: .tcp(host: "127.0.0.1", port: server.port))
        #expect(try await kept.value == [.null])  // BLPOP's own timeout, on the same connection
        let dropped = try await blockedRead()
        connection.dropConnection(keeping: .tcp(host: "127.0.0.1", port: server.port + 1))
        await #expect {
            try await dropped.value
        } throws: { error in
            (error as? RedisError)?.code == .connectionLost
        }
    }

    /// A failover seen while the connection was still connecting (its address asked before the move) makes it connect
    /// once more, to the new primary — also when the lookup ended past the reconnect window (a sentinel lookup waits a
    /// second on each unreachable sentinel): the connection then stayed on the demoted primary, writing there.
    @Test func aDropWhileConnectingPastTheWindowStillReconnectsToTheNewAddress() async throws {
        let old = try RedisServer()
        let new = try RedisServer()
        let asked = Mutex(0)
        let oldEndpoint = RedisConfiguration.Endpoint.tcp(host: "127.0.0.1", port: old.port)
        let newEndpoint = RedisConfiguration.Endpoint.tcp(host: "127.0.0.1", port: new.port)
        var configuration = try RedisConfiguration(url: old.url)
        configuration.reconnectWindow = .milliseconds(300)
        let connection = RedisConnection(configuration: configuration) { () throws(RedisError) in
            let call = asked.withLock { count in
                count += 1
                return count
            }
            guard call == 1 else { return newEndpoint }
            Thread.sleep(forTimeInterval: 0.8)  // the lookup answers the old primary, past the window
            return oldEndpoint
        }
        defer { connection.close() }
        let write = Task { try await connection.send([RedisCommand("SET", "where", "written")]) }
        try await Task.sleep(for: .milliseconds(200))
        connection.dropConnection(keeping: newEndpoint)  // the move, seen while the first lookup runs
        #expect(try await write.value == [.status("OK")])
        let onOld = try RedisConnection(configuration: RedisConfiguration(url: old.url))
        defer { onOld.close() }
        let onNew = try RedisConnection(configuration: RedisConfiguration(url: new.url))
        defer { onNew.close() }
        #expect(try await onOld.send([RedisCommand("GET", "where")]) == [.null], "written to the demoted primary")
        #expect(try await onNew.send([RedisCommand("GET", "where")]) == [.bulk(Array("written".utf8))])
    }

    @Test func reconnectsAfterTheServerIsKilledAndRestarted() async throws {
        let server = try RedisServer()
        let redis = try RedisClient(url: server.url)
        defer { redis.close() }
        try await redis.send("SET", "k", "before")
        server.kill()

        // While Redis is down, a command fails after the reconnect window, naming the server.
        var short = redis.configuration
        short.reconnectWindow = .milliseconds(100)
        let impatient = RedisClient(configuration: short)
        defer { impatient.close() }
        await #expect {
            try await impatient.send("PING")
        } throws: { error in
            let error = error as? RedisError
            return error?.code == .connectionFailed && error?.description.contains("127.0.0.1:\(server.port)") == true
        }

        try server.start()
        // The pooled connections still hold the dead sockets; the next command reconnects and succeeds.
        for connection in 0..<redis.configuration.poolSize {
            #expect(try await redis.send("PING") == .status("PONG"), "connection \(connection)")
        }
        #expect(try await redis.send("GET", "k") == .null)  // a fresh server without persistence
        #expect(try await impatient.send("PING") == .status("PONG"))
    }

    @Test func reconnectsWithinTheWindowWhenRedisComesBack() async throws {
        let server = try RedisServer()
        var configuration = try RedisConfiguration(url: server.url)
        configuration.reconnectWindow = .seconds(5)
        let redis = RedisClient(configuration: configuration)
        defer { redis.close() }
        try await redis.send("PING")
        server.kill()
        // Restarted from a thread of its own, started now: in `make test`'s parallel phase a task may wait seconds
        // for a cooperative thread, and a restart that came after the window would fail the test, not the client.
        let restart = OwnThread {
            Thread.sleep(forTimeInterval: 0.3)
            try server.start()
        }
        // Issued while the server is down, once its close has reached this side: waits with backoff, then succeeds.
        // Sent at once, it may race the close, as in `RedisTLSTests.reconnectsAfterTheTLSServerRestarts`: with three
        // CPU burners beside it the kernel delivered the dead server's FIN after the write, and the INCR failed
        // `connectionLost` (rightly: the client cannot know the write was not read).
        try await Task.sleep(for: .milliseconds(100))
        #expect(try await redis.send("INCR", "n") == .integer(1))
        try restart.value()
    }

    /// A server at `maxclients` writes `ERR max number of clients reached` when it accepts a connection, and closes it.
    /// That is not an answer: the connect is tried again, and the call lands once a slot is free. Before, without a
    /// password the first command took the refusal as its reply (an `INCR` "failed" that never ran), and with one the
    /// refusal was read as a wrong password, final at once.
    @Test(arguments: ["", "the-secret"]) func aServerAtMaxclientsIsTriedAgainNotTakenForAnAnswer(password: String) async throws {
        let server = try RedisServer(arguments: ["--maxclients", "1"] + (password.isEmpty ? [] : ["--requirepass", password]))
        let url = "redis://\(password.isEmpty ? "" : ":\(password)@")127.0.0.1:\(server.port)/0"
        let holder = try RedisClient(url: url)
        #expect(try await holder.send("PING") == .status("PONG"), "the one slot is taken")
        let redis = try RedisClient(url: url)
        defer { redis.close() }
        let release = Task {
            try await Task.sleep(for: .milliseconds(400))
            holder.close()
        }
        #expect(try await redis.send("INCR", "n") == .integer(1))
        try await release.value
    }

    /// A script running past `busy-reply-threshold` makes the server answer `BUSY` to `SELECT`: a connect then is tried
    /// again, and lands once the script ends. It failed at once as a database that "does not exist".
    @Test func aSelectRefusedAsBusyIsTriedAgainNotABadDatabase() async throws {
        let server = try RedisServer(arguments: ["--busy-reply-threshold", "100"])
        let admin = try RedisClient(url: server.url)
        defer { admin.close() }
        #expect(try await admin.send("PING") == .status("PONG"))
        let busy = Task {
            // About a second of a script that does not yield.
            try await admin.send("EVAL", "local t = redis.call('TIME'); local s = t[1] * 1e6 + t[2]; while true do local n = redis.call('TIME'); if n[1] * 1e6 + n[2] - s > 1000000 then return 1 end end", "0")
        }
        try await Task.sleep(for: .milliseconds(300))
        let redis = try RedisClient(url: "redis://127.0.0.1:\(server.port)/3")
        defer { redis.close() }
        #expect(try await redis.send("INCR", "n") == .integer(1))
        #expect(try await busy.value == .integer(1))
    }

    @Test func wrongPasswordNamesTheUserNotThePassword() async throws {
        let server = try RedisServer(arguments: ["--requirepass", "right-secret"])
        let redis = try RedisClient(url: "redis://:wrong-secret-123@127.0.0.1:\(server.port)/0")
        defer { redis.close() }
        await #expect {
            try await redis.send("PING")
        } throws: { error in
            let text = "\(error)"
            return (error as? RedisError)?.code == .authenticationFailed && text.contains("user 'default'")
                && !text.contains("wrong-secret-123") && !text.contains("right-secret")
        }
        let good = try RedisClient(url: "redis://:right-secret@127.0.0.1:\(server.port)/0")
        defer { good.close() }
        #expect(try await good.send("PING") == .status("PONG"))
    }

    @Test func aclUserAuthAndUnknownUser() async throws {
        let server = try RedisServer()
        let admin = try RedisClient(url: server.url)
        defer { admin.close() }
        try await admin.send("ACL", "SETUSER", "worker", "on", ">w0rker-pass", "~*", "+@all")

        let worker = try RedisClient(url: "redis://worker:w0rker-pass@127.0.0.1:\(server.port)/2")
        defer { worker.close() }
        #expect(try await worker.send("ACL", "WHOAMI").string == "worker")
        try await worker.send("SET", "in-db-2", "yes")
        #expect(try await admin.send("GET", "in-db-2") == .null)  // admin is on db 0

        let stranger = try RedisClient(url: "redis://nobody:w0rker-pass@127.0.0.1:\(server.port)/0")
        defer { stranger.close() }
        await #expect {
            try await stranger.send("PING")
        } throws: { error in
            let text = "\(error)"
            return text.contains("user 'nobody'") && !text.contains("w0rker-pass")
        }
    }

    @Test func unixSocketWithDatabase() async throws {
        let socket = "/tmp/hoopoe-test-\(UInt32.random(in: 0...UInt32.max)).sock"
        defer { try? FileManager.default.removeItem(atPath: socket) }  // runs last, after the server stopped
        let server = try RedisServer(arguments: ["--unixsocket", socket, "--unixsocketperm", "700"])
        defer { server.stop() }
        let redis = try RedisClient(url: "unix://\(socket)?db=3")
        defer { redis.close() }
        #expect(try await redis.send("PING") == .status("PONG"))
        #expect(try await redis.send("CLIENT", "INFO").string?.contains("db=3") == true)
    }
}

