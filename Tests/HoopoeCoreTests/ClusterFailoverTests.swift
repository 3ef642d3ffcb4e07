import Foundation
import HoopoeCore
import HoopoeJSON
import Redis
import Synchronization
import TestSupport
import Testing

/// A primary failover inside a real cluster (three primaries, each with a replica, ``ClusterServers``) while one
/// worker runs a few thousand jobs on queues on all three primaries and an enqueuer keeps enqueuing with
/// `waitReplicas` 1: every enqueue that returned OK runs, and nothing is left in a stream, a pending list or a
/// scheduled set. Once with `CLUSTER FAILOVER` on the replica, once with `kill -9` of the primary (its replica is
/// promoted after the node timeout; the killed node is started again and rejoins as a replica).
@Suite(.serialized) struct ClusterFailoverTests {
    enum Failover: CustomStringConvertible {
        case manual, kill
        var description: String { self == .manual ? "CLUSTER FAILOVER" : "kill -9" }
    }

    @Test("CLUSTER FAILOVER of a busy primary mid-run: every acknowledged enqueue runs, none stuck")
    func manualFailover() async throws {
        try await runThrough(.manual)
    }

    @Test("kill -9 of a busy primary mid-run (its replica promoted after the node timeout): every acknowledged enqueue runs, none stuck")
    func killedPrimary() async throws {
        try await runThrough(.kill)
    }

    @Test("a command for a killed primary's slot waits for its replica's promotion and runs there; a blocking read's new connection goes there too")
    func aCommandWaitsOutThePromotion() async throws {
        let servers = try await offPool { try ClusterServers(replicas: 1, nodeTimeout: 1000) }
        let redis = try RedisClient(url: servers.url)
        defer { redis.close() }
        let onVictim = try servers.tag(onNode: 0, prefix: "k"), elsewhere = try servers.tag(onNode: 1, prefix: "k")
        let replica = try servers.replicaIndex(of: 0)
        #expect(try await redis.send("SET", "{\(onVictim)}:before", "1").string == "OK")
        servers.nodes[0].kill()
        #expect(try await redis.send("SET", "{\(elsewhere)}:other", "2").string == "OK", "the other primaries' slots are served as before")
        // Refused connections until the cluster promotes the replica (about 2 s here): the command waits, then runs.
        #expect(try await redis.send("SET", "{\(onVictim)}:after", "3").string == "OK")
        let direct = RedisClient(configuration: RedisConfiguration(endpoint: servers.endpoints[replica]))
        defer { direct.close() }
        #expect(try await direct.send("GET", "{\(onVictim)}:after").string == "3", "written on the promoted replica")
        let connection = try await redis.makeDedicatedConnection(forKey: "{\(onVictim)}:after")
        defer { connection.close() }
        #expect(connection.configuration.endpoint == servers.endpoints[replica])
    }

    @Test("a pipeline across nodes whose one node stays unreachable fails as 'may have run', since the others' shares ran")
    func aPipelinePartlyRunIsNotReportedAsNotRun() async throws {
        let (servers, redis) = try await Self.clusterWithoutReplicas()
        defer { redis.close() }
        let onVictim = try servers.tag(onNode: 0, prefix: "p"), elsewhere = try servers.tag(onNode: 1, prefix: "p")
        #expect(try await redis.send("SET", "{\(onVictim)}:warm", "1").string == "OK")  // the map is known
        servers.nodes[0].kill()  // no replica: its slots get no new primary
        let error = await #expect(throws: RedisError.self) {
            try await redis.pipeline([RedisCommand("SET", "{\(elsewhere)}:ran", "1"), RedisCommand("SET", "{\(onVictim)}:not", "1")])
        }
        #expect(error?.outcomeUnknown == true, "\(String(describing: error))")
        let direct = RedisClient(configuration: RedisConfiguration(endpoint: servers.endpoints[1]))
        defer { direct.close() }
        #expect(try await direct.send("GET", "{\(elsewhere)}:ran").string == "1", "the other node's share ran")
    }

    /// A redirection is a reply that ran nothing. Counted as a share that ran, a lone command that met `MOVED` (a stale
    /// map) and was sent on to a node then down read as "may have run" once the window was spent: an acknowledgement
    /// Redis never ran was given up on, and its jobs ran again after their lease.
    @Test("a command redirected to a node that stays unreachable fails as 'not sent': the MOVED reply ran nothing")
    func aRedirectedCommandThatNeverRanIsReportedAsNotRun() async throws {
        let (servers, redis) = try await Self.clusterWithoutReplicas()
        defer { redis.close() }
        let moved = try servers.tag(onNode: 1, prefix: "m"), elsewhere = try servers.tag(onNode: 2, prefix: "m")
        #expect(try await redis.send("SET", "{\(elsewhere)}:warm", "1").string == "OK")  // the map is known: the slot is node 1's
        servers.migrate(slot: HashSlot.of(moved), from: 1, to: 0)  // the client's map is stale now
        servers.nodes[0].kill()  // no replica: the slot gets no new primary
        let error = await #expect(throws: RedisError.self) { try await redis.send("SET", "{\(moved)}:k", "v") }
        #expect(error?.outcomeUnknown == false, "\(String(describing: error))")
    }

    /// A cluster of three primaries and no replica (a killed primary's slots get no new primary), and a client that waits
    /// 2 s for one before it gives up.
    private static func clusterWithoutReplicas() async throws -> (ClusterServers, RedisClient) {
        let servers = try await offPool { try ClusterServers(replicas: 0, nodeTimeout: 1000) }
        var configuration = try RedisConfiguration(url: servers.url)
        configuration.clusterFailoverWindow = .seconds(2)
        return (servers, RedisClient(configuration: configuration))
    }

    private func runThrough(_ failover: Failover) async throws {
        let servers = try await offPool { try ClusterServers(replicas: 1, nodeTimeout: 1000) }
        var configuration = try RedisConfiguration(url: servers.url)
        configuration.waitReplicas = 1
        let redis = RedisClient(configuration: configuration)
        defer { redis.close() }
        let namespace = TestRedis.uniquePrefix("failover")
        let jobs = JobQueue(redis: redis, namespace: namespace)
        let queues = try (0..<3).map { try servers.tag(onNode: $0, prefix: "fo") }
        let victim = 0
        let replica = try servers.replicaIndex(of: victim)
        // The record of runs lives on a primary that stays, so a run's record is never the write a kill loses.
        let key = "\(namespace):{\(try servers.tag(onNode: 1, prefix: "rec"))}:ran"

        let options = WorkerOptions(
            queues: QueueSelection(queues), concurrency: 16, lease: .seconds(2), recoveryInterval: .milliseconds(200),
            promoteInterval: .milliseconds(50), fetchBlock: .milliseconds(200), shutdownTimeout: .seconds(2))
        let worker = Worker(jobs: jobs, registry: .diagnostic, options: options, logger: EngineHarness.quietLogger)
        let working = Task { try await worker.run() }

        let total = 3000
        let progress = Atomic<Int>(0)
        let failures = Atomic<Int>(0)
        let enqueuing = Task {
            var acknowledged: [String] = []
            var next = 0
            let deadline = ContinuousClock.now + .seconds(90)
            while acknowledged.count < total && ContinuousClock.now < deadline {
                let batch = (next..<next + 30).map { n in
                    (type: "diag.record", payload: JSONValue.object(["key": .string(key), "member": .string("j\(n)")]),
                     options: EnqueueOptions(queue: queues[n % 3], maxAttempts: 100, id: "j\(n)"))
                }
                next += 30
                do {
                    for result in try await jobs.enqueueBatch(batch) {
                        if case .enqueued(let id) = result { acknowledged.append(id) }
                    }
                } catch {
                    failures.add(1, ordering: .relaxed)  // not acknowledged: may or may not run
                    try await Task.sleep(for: .milliseconds(20))
                }
                progress.store(acknowledged.count, ordering: .relaxed)
            }
            return acknowledged
        }

        #expect(try await eventually(timeout: .seconds(30)) { progress.load(ordering: .relaxed) >= total / 3 }, "enqueues before the failover")
        let redirectionsBefore = redis.clusterRedirections
        switch failover {
        case .manual:
            try await offPool { try servers.failover(to: replica) }
        case .kill:
            try await offPool {
                servers.nodes[victim].kill()
                try servers.waitUntilPrimary(replica)
                try servers.nodes[victim].start()
                try servers.waitUntilConsistent(timeout: 30)
            }
        }
        #expect(try servers.primaryIndex(ofShard: victim) == replica, "the replica serves the shard's slots now")

        let acknowledged = try await enqueuing.value
        #expect(acknowledged.count >= total, "every enqueue returned within the time (\(failures.load(ordering: .relaxed)) batches failed)")
        #expect(redis.clusterRedirections > redirectionsBefore, "the client followed the failover (MOVED, or a map asked again)")
        let ranAll = try await eventually(timeout: .seconds(60)) {
            let ran = Set(try await redis.send("SMEMBERS", key).array?.compactMap(\.string) ?? [])
            return Set(acknowledged).isSubset(of: ran)
        }
        let ran = Set(try await redis.send("SMEMBERS", key).array?.compactMap(\.string) ?? [])
        #expect(ranAll, "after \(failover), \(Set(acknowledged).subtracting(ran).count) acknowledged jobs never ran, e.g. \(Set(acknowledged).subtracting(ran).sorted().prefix(5))")
        let settled = try await eventually(timeout: .seconds(30)) {
            try await queues.asyncAllSatisfy { queue in
                let info = try await jobs.info(queue: queue)
                return info.ready == 0 && info.inFlight == 0 && info.scheduled == 0 && info.dead == 0
            }
        }
        let left = try await queues.asyncMap { try await jobs.info(queue: $0) }
        #expect(settled, "nothing left in a stream, pending list, scheduled or dead set: \(left)")
        worker.shutdown()
        try await working.value
    }
}

extension Sequence {
    fileprivate func asyncAllSatisfy(_ predicate: (Element) async throws -> Bool) async rethrows -> Bool {
        for element in self where try await !predicate(element) { return false }
        return true
    }

    fileprivate func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}
