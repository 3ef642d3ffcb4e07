import Foundation
import HoopoeCore
import HoopoeJSON
import Redis
import TestSupport
import Testing

/// The engine on a real three-primary cluster (``ClusterServers``) through a `redis-cluster://` client: every script
/// and `MULTI` it sends passes the cluster client's slot check (a call whose keys span slots is refused before it
/// is sent, so any such call would fail these tests), and jobs on queues that live on different nodes all run.
@Suite(.serialized) struct ClusterEngineTests {
    let servers: ClusterServers
    let redis: RedisClient
    let jobs: JobQueue
    let namespace: String

    init() throws {
        servers = try ClusterServers.shared()
        redis = try RedisClient(url: servers.url)
        namespace = TestRedis.uniquePrefix("cluster")
        jobs = JobQueue(redis: redis, namespace: namespace)
    }

    private func worker(queues: [String]) -> (Worker, Task<Void, any Error>) {
        let options = WorkerOptions(
            queues: QueueSelection(queues), concurrency: 8, lease: .seconds(30), recoveryInterval: .milliseconds(200),
            promoteInterval: .milliseconds(50), fetchBlock: .milliseconds(200), shutdownTimeout: .seconds(2))
        let worker = Worker(jobs: jobs, registry: .diagnostic, options: options, logger: EngineHarness.quietLogger)
        return (worker, Task { try await worker.run() })
    }

    private func recorded(_ key: String) async throws -> [String: Int] {
        let items = try await redis.send("HGETALL", key + ":count").array ?? []
        var result: [String: Int] = [:]
        for i in stride(from: 0, to: items.count - 1, by: 2) { result[items[i].string!] = items[i + 1].int }
        return result
    }

    @Test("one worker serving queues on all three primaries runs every job: ready, delayed, unique, retried, dead, resurrected, deleted")
    func everyPathOnThreeNodes() async throws {
        defer { redis.close() }
        let queues = try (0..<3).map { try servers.tag(onNode: $0, prefix: "q") }
        #expect(Set(try queues.map { try servers.owner(ofSlot: HashSlot.of($0)) }) == [0, 1, 2])
        let key = "\(namespace):{rec}:ran"
        var batch: [(type: String, payload: JSONValue, options: EnqueueOptions)] = []
        for i in 0..<60 {
            batch.append(("diag.record", .object(["key": .string(key), "member": .string("m\(i)")]), EnqueueOptions(queue: queues[i % 3])))
        }
        _ = try await jobs.enqueueBatch(batch)
        for (index, queue) in queues.enumerated() {
            _ = try await jobs.enqueue(
                type: "diag.record", payload: .object(["key": .string(key), "member": .string("later\(index)")]),
                options: EnqueueOptions(queue: queue, runAt: Date().addingTimeInterval(0.3)))
            let unique = EnqueueOptions(queue: queue, uniqueKey: "u\(index)")
            let payload = JSONValue.object(["key": .string(key), "member": .string("unique\(index)")])
            guard case .enqueued(let first) = try await jobs.enqueue(type: "diag.record", payload: payload, options: unique) else {
                Issue.record("the unique job was refused")
                return
            }
            #expect(try await jobs.enqueue(type: "diag.record", payload: payload, options: unique) == .duplicate(existingID: first))
            _ = try await jobs.enqueue(type: "no.such.type", payload: .object([:]), options: EnqueueOptions(queue: queue, id: "dead-\(index)"))
        }
        // A job that outlives its timeout is retried later: the reschedule script moves it to its scheduled set.
        _ = try await jobs.enqueue(
            type: "diag.record", payload: .object(["key": .string(key + ":slow"), "member": .string("slow"), "sleep_ms": .integer(5000)]),
            options: EnqueueOptions(queue: queues[2], maxAttempts: 3, timeout: .milliseconds(100), id: "retried"))
        let (worker, task) = worker(queues: queues)
        let expected = Set((0..<60).map { "m\($0)" } + (0..<3).map { "later\($0)" } + (0..<3).map { "unique\($0)" })
        #expect(try await eventually(timeout: .seconds(15)) { Set(try await recorded(key).keys) == expected })
        #expect(try await eventually { try await queues.asyncAllSatisfy { try await jobs.info(queue: $0).dead == 1 } })
        #expect(try await eventually { try await jobs.info(queue: queues[2]).scheduled == 1 }, "the timed-out job waits for its retry")
        // Every death wrote its job.dead event to the shared events stream (its own slot).
        let events = try await redis.send("XRANGE", "\(namespace):events", "-", "+").array ?? []
        #expect(events.count == 3)
        // The dead set: listed, resurrected (the job dies again), deleted (a MULTI in its queue's slot).
        #expect(try await jobs.deadJobs(queue: queues[1]).map(\.id) == ["dead-1"])
        #expect(try await jobs.retryDead(id: "dead-1", queue: queues[1]))
        #expect(try await eventually { (try await redis.send("XLEN", "\(namespace):events").int ?? 0) == 4 })
        #expect(try await jobs.deleteDead(id: "dead-2", queue: queues[2]))
        #expect(try await jobs.deadJobs(queue: queues[2]).isEmpty)
        // `hoopoe queues` reads: every queue is known (SCAN on every primary), each one's counts from its node.
        let known = try await jobs.knownQueues()
        #expect(Set(queues).isSubset(of: Set(known)))
        worker.shutdown()
        try await task.value
        #expect(try await recorded(key).values.allSatisfy { $0 == 1 }, "each job ran once")
    }

    @Test("cancel (ready and delayed), a queue's clear, run now of a delayed job, recovery of a dead consumer's jobs and hand-back at shutdown, on three nodes")
    func cancelRecoverHandBack() async throws {
        defer { redis.close() }
        let a = try servers.tag(onNode: 0, prefix: "c"), b = try servers.tag(onNode: 1, prefix: "c"), c = try servers.tag(onNode: 2, prefix: "c")
        let key = "\(namespace):{rec}:crh"
        func payload(_ member: String, sleepMs: Int? = nil) -> JSONValue {
            var object: [String: JSONValue] = ["key": .string(key), "member": .string(member)]
            if let sleepMs { object["sleep_ms"] = .integer(Int64(sleepMs)) }
            return .object(object)
        }
        _ = try await jobs.enqueue(type: "diag.record", payload: payload("ready"), options: EnqueueOptions(queue: a, id: "ready"))
        _ = try await jobs.enqueue(type: "diag.record", payload: payload("later"), options: EnqueueOptions(queue: b, runAt: Date().addingTimeInterval(60), id: "later"))
        #expect(try await jobs.cancel(id: "ready", queue: a) == .cancelled)
        #expect(try await jobs.cancel(id: "later", queue: b) == .cancelled)
        // A clear: the queue's ready and delayed jobs, read and cancelled in its slot, on node 1.
        for i in 0..<3 { _ = try await jobs.enqueue(type: "diag.record", payload: payload("flood\(i)"), options: EnqueueOptions(queue: b)) }
        for i in 3..<5 {
            _ = try await jobs.enqueue(type: "diag.record", payload: payload("flood\(i)"), options: EnqueueOptions(queue: b, runAt: Date().addingTimeInterval(60)))
        }
        #expect(try await jobs.clear(queue: b, scheduled: true) == ClearResult(cleared: 5))
        // Run now: the script's three keys (scheduled set, envelopes, stream) are in the queue's slot, on node 2.
        _ = try await jobs.enqueue(type: "diag.record", payload: payload("soon"), options: EnqueueOptions(queue: c, runAt: Date().addingTimeInterval(3600), id: "soon"))
        #expect(try await jobs.runNow(id: "soon", queue: c) == .moved)
        // A consumer that took a job and died: the worker's recovery claims it after the lease.
        let stream = jobs.keys(c).stream
        _ = try await jobs.enqueue(type: "diag.record", payload: payload("orphan"), options: EnqueueOptions(queue: c, id: "orphan"))
        _ = try await redis.send("XGROUP", "CREATE", stream, QueueKeys.group, "0", "MKSTREAM")
        _ = try await redis.send(RedisCommand("XREADGROUP", ["GROUP", QueueKeys.group, "ghost", "COUNT", "10", "STREAMS", stream, ">"]))
        for i in 0..<4 { _ = try await jobs.enqueue(type: "diag.record", payload: payload("slow\(i)", sleepMs: 300), options: EnqueueOptions(queue: c)) }
        let options = WorkerOptions(
            queues: QueueSelection([a, b, c]), concurrency: 1, lease: .milliseconds(500), recoveryInterval: .milliseconds(100),
            promoteInterval: .milliseconds(50), fetchBlock: .milliseconds(100), shutdownTimeout: .seconds(5))
        let first = Worker(jobs: jobs, registry: .diagnostic, options: options, logger: EngineHarness.quietLogger)
        let firstRun = Task { try await first.run() }
        try await Task.sleep(for: .milliseconds(150))
        first.shutdown()  // one slow job running, the prefetched ones handed back to the stream at once
        try await firstRun.value
        let second = Worker(jobs: jobs, registry: .diagnostic, options: options, logger: EngineHarness.quietLogger)
        let secondRun = Task { try await second.run() }
        let expected: Set<String> = ["orphan", "slow0", "slow1", "slow2", "slow3", "soon"]
        #expect(try await eventually(timeout: .seconds(15)) { Set(try await recorded(key).keys) == expected })
        second.shutdown()
        try await secondRun.value
        let ran = try await recorded(key)
        #expect(ran["ready"] == nil && ran["later"] == nil, "cancelled jobs never ran")
        #expect(!ran.keys.contains { $0.hasPrefix("flood") }, "cleared jobs never ran")
    }

    @Test("a slot migration during enqueues loses nothing: ASK, TRYAGAIN and MOVED are followed, and every job runs")
    func migrationDuringEnqueues() async throws {
        defer { redis.close() }
        let queue = try servers.tag(onNode: 0, prefix: "mig")
        let slot = HashSlot.of(queue)
        _ = try await jobs.enqueue(type: "diag.record", payload: .object(["key": .string("\(namespace):{rec}:mig"), "member": .string("first")]), options: EnqueueOptions(queue: queue, id: "first"))
        let total = 400
        let enqueuing = Task {
            var ids: [String] = []
            for start in stride(from: 0, to: total, by: 10) {
                let batch = (start..<start + 10).map {
                    (type: "diag.record", payload: JSONValue.object(["key": .string("\(namespace):{rec}:mig"), "member": .string("j\($0)")]),
                     options: EnqueueOptions(queue: queue, id: "j\($0)"))
                }
                for result in try await jobs.enqueueBatch(batch) {
                    if case .enqueued(let id) = result { ids.append(id) }
                }
                try await Task.sleep(for: .milliseconds(5))
            }
            return ids
        }
        try await Task.sleep(for: .milliseconds(20))
        servers.beginMigration(slot: slot, from: 0, to: 1)
        while servers.moveKeys(slot: slot, from: 0, to: 1, count: 2) > 0 {}
        servers.finishMigration(slot: slot, from: 0, to: 1)
        let acknowledged = try await enqueuing.value
        #expect(acknowledged.count == total, "every enqueue returned enqueued")
        #expect(redis.clusterRedirections > 0, "the migration overlapped the enqueues (they were redirected or told to try again)")
        #expect(try servers.owner(ofSlot: slot) == 1)
        let direct = RedisClient(configuration: RedisConfiguration(endpoint: servers.endpoints[1]))
        defer { direct.close() }
        #expect(try await direct.send("XLEN", jobs.keys(queue).stream).int == total + 1, "the stream moved whole to the new owner")
        let (worker, task) = worker(queues: [queue])
        #expect(try await eventually(timeout: .seconds(15)) { try await recorded("\(namespace):{rec}:mig").count == total + 1 })
        worker.shutdown()
        try await task.value
    }
}

extension Sequence {
    fileprivate func asyncAllSatisfy(_ predicate: (Element) async throws -> Bool) async rethrows -> Bool {
        for element in self where try await !predicate(element) { return false }
        return true
    }
}

