import Foundation
import Synchronization
import Testing
import TestSupport

@testable import Redis

/// Sentinel mode against real `redis-sentinel` processes (``SentinelGroup``): the client finds the primary, and
/// follows it when the sentinels move it — by `+switch-master`, by a `READONLY` refusal, by a lost connection.
@Suite("Sentinel failover", .serialized)
struct SentinelFailoverTests {
    /// The failure Sentinel mode exists for (issue 13): a client given the primary's own address keeps writing to
    /// it after `SENTINEL FAILOVER`, though it is no longer the primary — and the new primary never sees those writes.
    @Test func aClientOnThePrimarysAddressKeepsWritingToTheDemotedPrimary() async throws {
        let group = try await SentinelGroup()
        let old = group.nodes[0].port
        let client = SentinelGroup.client(port: old)
        defer { client.close() }
        try await client.send("SET", "before", "1")
        let new = try await group.failover()
        #expect(new != old)
        try await client.send("SET", "after", "1")  // accepted: the demoted primary still says it is master
        let onNew = SentinelGroup.client(port: new)
        defer { onNew.close() }
        #expect(try await onNew.send("EXISTS", "after").int == 0)
    }

    @Test func theClientWritesToThePrimaryTheSentinelsName() async throws {
        let group = try await SentinelGroup()
        let client = try RedisClient(url: group.url)
        defer { client.close() }
        try await client.send("SET", "k", "v")
        let primary = SentinelGroup.client(port: group.nodes[0].port)
        defer { primary.close() }
        #expect(try await primary.send("GET", "k").string == "v")
    }

    /// In Sentinel mode the configured endpoint is the first sentinel: errors named it ("Redis 127.0.0.1:26379 ... OOM"),
    /// and sent an operator to a sentinel for the primary's memory.
    @Test func anErrorNamesThePrimaryNotTheSentinel() async throws {
        let group = try await SentinelGroup()
        let client = try RedisClient(url: group.url)
        defer { client.close() }
        try await client.send("SET", "k", "v")
        let primary = "127.0.0.1:\(try await group.primaryPort())"
        let direct = SentinelGroup.client(port: try await group.primaryPort())
        defer { direct.close() }
        try await direct.send("CONFIG", "SET", "maxmemory", "1")
        defer { Task { _ = try? await direct.send("CONFIG", "SET", "maxmemory", "0") } }
        let write = await #expect(throws: RedisError.self) { try await client.send("SET", "k2", "v") }
        #expect(write?.endpoint == primary && write?.message.contains("OOM") == true, "\(String(describing: write))")
        let transaction = await #expect(throws: RedisError.self) { try await client.transaction([RedisCommand("SET", "k3", "v")]) }
        #expect(transaction?.endpoint == primary, "\(String(describing: transaction))")
        try await direct.send("CONFIG", "SET", "maxmemory", "0")
        let connection = client.makeDedicatedConnection()
        defer { connection.close() }
        let read = await #expect(throws: RedisError.self) {
            try await connection.send(RedisCommand("XREADGROUP", "GROUP", "nogroup", "c", "COUNT", "1", "STREAMS", "no-stream", ">")) { _ in 0 }
        }
        #expect(read?.endpoint == primary, "\(String(describing: read))")
    }

    /// `+switch-master`: every write after the switch lands on the new primary within 5 s (here: at once), and none
    /// reaches the demoted one, though it still accepts writes for about ten seconds.
    @Test func writesMoveToTheNewPrimaryWithinFiveSecondsOfTheSwitch() async throws {
        let group = try await SentinelGroup()
        let old = group.nodes[0].port
        let client = try RedisClient(url: group.url)
        defer { client.close() }
        try await client.send("SET", "n", "0")
        let new = try await group.failover()
        let switched = ContinuousClock.now
        let onNew = SentinelGroup.client(port: new)
        let onOld = SentinelGroup.client(port: old)
        defer { onNew.close(); onOld.close() }
        var landed: Duration?
        for attempt in 1...500 {
            _ = try? await client.send("SET", "n", String(attempt))
            if try await onNew.send("GET", "n").string == String(attempt) {
                landed = ContinuousClock.now - switched
                break
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        let after = try #require(landed, "no write reached the new primary")
        #expect(after < .seconds(5))
        #expect(try await onOld.send("ROLE").array?.first?.string == "master", "the demoted primary still takes writes: the window this guards")
        for attempt in 1...20 { try await client.send("SET", "later", String(attempt)) }
        #expect(try await onOld.send("EXISTS", "later").int == 0)
        #expect(try await onNew.send("GET", "later").string == "20")
    }

    /// A dedicated connection blocked in a read on the old primary is interrupted by the switch, and its next
    /// command runs on the new primary (the worker's fetch connection).
    @Test func aBlockedDedicatedConnectionFollowsTheSwitch() async throws {
        let group = try await SentinelGroup()
        let client = try RedisClient(url: group.url)
        defer { client.close() }
        let dedicated = client.makeDedicatedConnection(name: "test-blocking")
        defer { dedicated.close() }
        var blpop = RedisCommand("BLPOP", "list", "20")
        blpop.blockingSeconds = 20
        _ = try await dedicated.send([RedisCommand("PING")])
        let started = ContinuousClock.now
        let blocked = Task { try await dedicated.send([blpop]) }
        try await Task.sleep(for: .milliseconds(200))
        let new = try await group.failover()
        let outcome = await blocked.result
        #expect(ContinuousClock.now - started < .seconds(10), "the 20 s BLPOP was interrupted")
        if case .success(let replies) = outcome { Issue.record("the blocked read was not interrupted: \(replies)") }
        let onNew = SentinelGroup.client(port: new)
        defer { onNew.close() }
        try await onNew.send("RPUSH", "list", "x")
        var short = RedisCommand("BLPOP", "list", "2")
        short.blockingSeconds = 2
        #expect(try await dedicated.send([short])[0].array?.last?.string == "x")
    }

    /// Without the `+switch-master` message (missed): a write the demoted node refuses with `READONLY` did not run,
    /// so the client sends it again to the new primary — it runs there exactly once.
    @Test func aWriteRefusedWithReadonlyRunsOnceOnTheNewPrimary() async throws {
        let group = try await SentinelGroup()
        let old = group.nodes[0].port
        let client = RedisClient(configuration: try RedisConfiguration(url: group.url), watchesSentinel: false)
        defer { client.close() }
        try await client.send("SET", "warm", "1")
        let new = try await group.failover()
        let onOld = SentinelGroup.client(port: old)
        defer { onOld.close() }
        try await onOld.send("REPLICAOF", "127.0.0.1", String(new))  // what the sentinels do ~10 s later, now
        #expect(try await client.send("INCR", "counter").int == 1)
        let replies = try await client.pipeline([RedisCommand("INCR", "counter"), RedisCommand("INCR", "other")])
        #expect(replies.map(\.int) == [2, 1])
        let onNew = SentinelGroup.client(port: new)
        defer { onNew.close() }
        #expect(try await onNew.send("GET", "counter").string == "2")
        let results = try await client.transaction([RedisCommand("INCR", "counter"), RedisCommand("INCR", "counter")])
        #expect(results.map(\.int) == [3, 4])
    }

    /// A switch drops the connections on the old primary, not one already on the new one: each connection asks the
    /// sentinels itself before it connects, so one may reach the new primary before the switch is followed (by the
    /// watcher's report, or another connection's answer). Dropped then, its write in flight ran on the new primary
    /// but was reported failed (CI of stop 48: the new primary held one more write than the client was told of).
    @Test func aSwitchLeavesAConnectionAlreadyOnTheNewPrimaryAlone() async throws {
        let group = try await SentinelGroup()
        guard case .sentinel(let settings) = try RedisConfiguration(url: group.url).topology else {
            Issue.record("not a Sentinel URL: \(group.url)")
            return
        }
        let follower = SentinelFollower(settings: settings, connectTimeout: .seconds(1))
        let old = group.nodes[0]
        #expect(try follower.address() == .tcp(host: "127.0.0.1", port: old.port))
        let new = try await group.failover()
        let onNew = RedisConnection(configuration: try RedisConfiguration(url: "redis://127.0.0.1:\(new)/0"))
        let onOld = RedisConnection(configuration: try RedisConfiguration(url: old.url))
        defer { onNew.close(); onOld.close() }
        follower.track(onNew)
        follower.track(onOld)
        var read = RedisCommand("XREAD", "BLOCK", "1000", "STREAMS", "nothing-here", "$")
        read.blockingSeconds = 1
        let kept = Task { [read] in try await onNew.send([read]) }
        let dropped = Task { [read] in try await onOld.send([read]) }
        try await #require(group.node(port: new)).waitUntilBlocked()
        try await old.waitUntilBlocked()
        #expect(try follower.address() == .tcp(host: "127.0.0.1", port: new))  // the switch, followed now
        #expect(try await kept.value == [.null])  // XREAD's own timeout: the connection was left alone
        await #expect {
            try await dropped.value
        } throws: { error in
            (error as? RedisError)?.code == .connectionLost
        }
    }

    /// `kill -9` of the primary: the client follows the sentinels' failover, and when the old primary comes back
    /// (as a master, until a sentinel converts it) nothing writes to it — though a sentinel that has not learned of
    /// the failover yet still names it (decision 0025, amended: the newest configuration wins). Every write that
    /// returned is on the new primary.
    ///
    /// Each write adds a member of its own (`SADD`), so a write is traced, not counted: one whose reply was lost —
    /// its connection closed after the server ran it (a sentinel reconfiguring a node sends `CLIENT KILL TYPE
    /// normal`; until session 36 the client's own drop did, on a connection already on the new primary) — may be on
    /// the new primary though it failed, and is told apart from one that went elsewhere or ran twice.
    ///
    /// Should the sentinels themselves fail back to the returned old primary (a second failover, epoch 2: they took
    /// the new one for down), writing there is right and the run proves nothing: it is run again, at most three times.
    @Test func afterAKillTheReturnedOldPrimaryGetsNoWrites() async throws {
        for attempt in 1...3 {
            if try await killScenario() == .conclusive { return }
            print("afterAKillTheReturnedOldPrimaryGetsNoWrites: the sentinels failed back to the old primary (run \(attempt)); again")
        }
        Issue.record("the sentinels failed back to the restarted old primary in three runs out of three: nothing was tested")
    }

    /// How a failover scenario's run ended: conclusive, or proving nothing (``sentinelsFailedBack``: they chose the old
    /// primary again; ``nothingLostWithoutWait``: no write without `WAIT` fell in the window a failover loses).
    private enum Run { case conclusive, sentinelsFailedBack, nothingLostWithoutWait }

    private func killScenario() async throws -> Run {
        let group = try await SentinelGroup()
        let old = group.nodes[0]
        let client = try RedisClient(url: group.url)
        defer { client.close() }
        try await client.send("SET", "warm", "1")
        old.kill()
        let new = try await group.waitForSwitch(from: old.port, timeout: .seconds(20))
        try old.start()
        let onOld = SentinelGroup.client(port: old.port)
        let onNew = SentinelGroup.client(port: new)
        defer { onOld.close(); onNew.close() }
        var acknowledged: Set<String> = []
        var failed: [String: RedisError.Code] = [:]  // member → why its write failed
        var sent = 0
        let deadline = ContinuousClock.now + .seconds(3)
        while ContinuousClock.now < deadline {
            sent += 1
            let member = "w\(sent)"
            do {
                try await client.send("SADD", "written", member)
                acknowledged.insert(member)
            } catch {
                failed[member] = (error as? RedisError)?.code ?? .server
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        if try await group.configEpoch() > 1 { return .sentinelsFailedBack }
        #expect(acknowledged.count > 0)
        let onNewPrimary = Set((try await onNew.send("SMEMBERS", "written").array ?? []).compactMap(\.string))
        let missing = acknowledged.subtracting(onNewPrimary)
        #expect(missing.isEmpty, "writes that returned but are not on the new primary: \(missing.sorted())")
        // A write that failed yet ran is one whose reply was lost (`connectionLost`, `timeout`: "may have run");
        // one that failed otherwise (refused, no connection) did not run, so finding it would mean a write sent twice.
        let ranThoughFailed = onNewPrimary.subtracting(acknowledged).compactMap { member in failed[member].map { (member, $0) } }
        #expect(ranThoughFailed.allSatisfy { $0.1 == .connectionLost || $0.1 == .timeout }, "failed writes that ran: \(ranThoughFailed)")
        if !failed.isEmpty {
            print("afterAKillTheReturnedOldPrimaryGetsNoWrites: \(failed.count) of \(sent) writes failed (\(ranThoughFailed.count) ran): \(failed.sorted { $0.key < $1.key })")
        }
        // Restarted without data, it is a master until a sentinel converts it; a write from the client would show.
        // (Once converted it holds the new primary's data, so only a check while it is master tells.)
        if try await group.role(port: old.port) == "master" {
            #expect(try await onOld.send("EXISTS", "written").int == 0, "the client wrote to the returned old primary")
        }
        return .conclusive
    }

    /// `waitReplicas` 1 during a failover: every durable write that returned is on the new primary. Beside it, the
    /// same stream of writes without `WAIT` loses some — those the old primary took after the replica was promoted
    /// and before the switch was announced (issue 13's "35 enqueues that returned OK").
    ///
    /// One replica, so `waitReplicas` 1 is every replica: with more, the replicas not promoted go on acknowledging
    /// the old primary until the switch, and a write only they have is lost (docs/operating.md says so).
    ///
    /// A failover in which no plain write reached the old primary in that window (a loaded machine's writers slow, or
    /// the switch quick) loses none, and would not have seen `WAIT` missing either: the run proves nothing and is made
    /// again with a new group, at most three times. Every run's durable writes are checked.
    @Test func noDurableWriteThatReturnedIsLostInAFailover() async throws {
        for attempt in 1...3 {
            if try await failoverScenario() == .conclusive { return }
            print("noDurableWriteThatReturnedIsLostInAFailover: the failover lost no write without WAIT (run \(attempt)); again")
        }
        Issue.record("the failover lost no write without WAIT in three runs out of three: this test would not see WAIT missing")
    }

    private func failoverScenario() async throws -> Run {
        let group = try await SentinelGroup()
        var configuration = try RedisConfiguration(url: group.url)
        configuration.waitReplicas = 1
        configuration.waitTimeout = .milliseconds(500)
        let durable = RedisClient(configuration: configuration)
        configuration.waitReplicas = 0
        let plain = RedisClient(configuration: configuration)
        defer { durable.close(); plain.close() }
        try await durable.send(RedisCommand("SADD", "durable", "warm"), durable: true)
        try await plain.send(RedisCommand("PING"))
        let stop = Stopwatch()
        func writer(_ client: RedisClient, key: String, durable: Bool, lane: Int) async -> [String] {
            var acknowledged: [String] = []
            var n = 0
            while !stop.isStopped {
                n += 1
                let member = "\(lane)-\(n)"
                if (try? await client.send(RedisCommand("SADD", key, member), durable: durable)) != nil { acknowledged.append(member) }
            }
            return acknowledged
        }
        async let durableLanes = withTaskGroup(of: [String].self) { tasks in
            for lane in 0..<4 { tasks.addTask { await writer(durable, key: "durable", durable: true, lane: lane) } }
            return await tasks.reduce(into: []) { $0 += $1 }
        }
        async let plainLanes = withTaskGroup(of: [String].self) { tasks in
            for lane in 0..<4 { tasks.addTask { await writer(plain, key: "plain", durable: false, lane: lane) } }
            return await tasks.reduce(into: []) { $0 += $1 }
        }
        try await Task.sleep(for: .milliseconds(300))
        let new = try await group.failover()
        try await Task.sleep(for: .seconds(2))
        stop.stop()
        let (durableAcked, plainAcked) = await (durableLanes, plainLanes)
        let onNew = SentinelGroup.client(port: new)
        defer { onNew.close() }
        let durableKept = Set(try await onNew.send("SMEMBERS", "durable").array?.compactMap(\.string) ?? [])
        let plainKept = Set(try await onNew.send("SMEMBERS", "plain").array?.compactMap(\.string) ?? [])
        let durableLost = durableAcked.filter { !durableKept.contains($0) }
        let plainLost = plainAcked.filter { !plainKept.contains($0) }
        print("durable: \(durableAcked.count) acknowledged, \(durableLost.count) lost; without WAIT: \(plainAcked.count) acknowledged, \(plainLost.count) lost")
        #expect(durableAcked.count > 100)
        #expect(durableLost.count == 0, "acknowledged durable writes missing on the new primary, e.g. \(durableLost.prefix(5))")
        return plainLost.isEmpty ? .nothingLostWithoutWait : .conclusive
    }

    /// `tls=true` protects the sentinel links too (decision 0025, amended): against sentinels and data nodes that speak
    /// only TLS, the client finds the primary, writes there, and follows a `SENTINEL FAILOVER` (its `+switch-master`
    /// subscription is a TLS link as well) within 5 s. With `sentinel_tls=false` the same sentinels cannot be asked:
    /// the links really are TLS, not a plain fallback.
    @Test func overTLSTheSentinelLinksAreEncryptedAndFollowAFailover() async throws {
        let group = try await SentinelGroup(tls: try await TLSCertificates.shared())
        let old = group.nodes[0].port
        let client = try RedisClient(url: group.url)
        defer { client.close() }
        try await client.send("SET", "n", "0")
        let onOld = group.connect(port: old)
        defer { onOld.close() }
        #expect(try await onOld.send("GET", "n").string == "0")
        let new = try await group.failover()
        let switched = ContinuousClock.now
        let onNew = group.connect(port: new)
        defer { onNew.close() }
        var landed = false
        for attempt in 1...500 where !landed {
            _ = try? await client.send("SET", "n", String(attempt))
            landed = (try? await onNew.send("GET", "n").string) == String(attempt)
            if !landed { try await Task.sleep(for: .milliseconds(10)) }
        }
        #expect(landed, "no write reached the new primary")
        #expect(ContinuousClock.now - switched < .seconds(5))

        let plain = RedisClient(configuration: try RedisConfiguration(url: group.url + "&sentinel_tls=false"))
        defer { plain.close() }
        let error = await #expect(throws: RedisError.self) { try await plain.send("PING") }
        #expect(error?.code == .connectionFailed, "\(String(describing: error))")
        #expect(error?.description.contains("no sentinel named the primary") == true, "\(String(describing: error))")

        // A CA that did not sign the sentinels' certificates: refused, saying TLS and certificate (never a hang).
        let certificates = try #require(group.tls)
        let stranger = RedisClient(configuration: try RedisConfiguration(url: group.url.replacingOccurrences(of: certificates.caFile, with: certificates.otherCAFile)))
        defer { stranger.close() }
        let refused = await #expect(throws: RedisError.self) { try await stranger.send("PING") }
        #expect(refused?.description.contains("TLS") == true && refused?.description.contains("certificate") == true, "\(String(describing: refused))")
    }

    /// No sentinel answering (restarting, or unreachable) must not cut a process off a primary that is well: a
    /// connection that dropped goes back to the primary last followed. Before, it failed "no sentinel named the
    /// primary" on every reconnect, so a worker's lease renewals stopped and its running jobs were recovered elsewhere.
    /// And that node is used only while it says it is the primary (`ROLE`): demoted meanwhile, it is refused, reads
    /// included, instead of serving them stale.
    @Test func withNoSentinelAnsweringADroppedConnectionGoesBackToThePrimaryWhileItIsOne() async throws {
        let group = try await SentinelGroup()
        var configuration = try RedisConfiguration(url: group.url)
        configuration.reconnectWindow = .seconds(1)
        let client = RedisClient(configuration: configuration)
        defer { client.close() }
        try await client.send("SET", "k", "1")
        group.stopSentinels()
        let primary = group.connect(port: group.nodes[0].port)
        defer { primary.close() }
        try await primary.send("CLIENT", "KILL", "TYPE", "normal")
        try await client.send("SET", "k", "2")
        #expect(try await primary.send("GET", "k").string == "2")

        // Demoted by hand (no sentinel is there to do it): the replica made primary, the old primary its replica.
        let replica = group.connect(port: group.nodes[1].port)
        defer { replica.close() }
        try await replica.send("REPLICAOF", "NO", "ONE")
        try await primary.send("REPLICAOF", "127.0.0.1", String(group.nodes[1].port))
        try await primary.send("CLIENT", "KILL", "TYPE", "normal")
        var error = await #expect(throws: RedisError.self) { try await client.send("GET", "k") }
        if error?.code == .connectionLost {
            // The killed connection was written to before its thread saw the close (a loaded machine, once in CI):
            // that call is lost; the next one reconnects.
            error = await #expect(throws: RedisError.self) { try await client.send("GET", "k") }
        }
        #expect(error?.code == .connectionFailed && error?.description.contains("not the primary") == true, "\(String(describing: error))")
    }

    /// docs/operating.md's ACL advice: a user without `ROLE` still works in Sentinel mode (the check is skipped), and
    /// a durable write by a user without `WAIT` is reported as not replicated, naming `WAIT`'s refusal.
    @Test func aUserWithoutRoleWorksAndOneWithoutWaitIsToldSo() async throws {
        let group = try await SentinelGroup()
        for node in group.nodes {
            let admin = SentinelGroup.client(port: node.port)
            defer { admin.close() }
            try await admin.send(RedisCommand("ACL", "SETUSER", "app", "on", ">secret", "~*", "&*", "+@all", "-role", "-wait"))
        }
        var configuration = try RedisConfiguration(url: group.url.replacingOccurrences(of: "redis-sentinel://", with: "redis-sentinel://app:secret@"))
        let client = RedisClient(configuration: configuration)
        defer { client.close() }
        try await client.send("SET", "k", "v")
        configuration.waitReplicas = 1
        let durable = RedisClient(configuration: configuration)
        defer { durable.close() }
        // The SET ran before its WAIT was refused: not replicated as far as anyone knows, never "nothing ran" (a caller
        // that retries such an error would write twice).
        let error = await #expect(throws: RedisError.self) { try await durable.send(RedisCommand("SET", "k", "w"), durable: true) }
        #expect(error?.code == .notReplicated && error?.outcomeUnknown == true, "\(String(describing: error))")
        #expect(error?.description.contains("WAIT failed (NOPERM") == true, "\(String(describing: error))")
        #expect(try await client.send("GET", "k").string == "w")
    }
}

/// A flag the writers of one test poll, set once.
final class Stopwatch: Sendable {
    private let flag = Mutex(false)
    var isStopped: Bool { flag.withLock { $0 } }
    func stop() { flag.withLock { $0 = true } }
}
