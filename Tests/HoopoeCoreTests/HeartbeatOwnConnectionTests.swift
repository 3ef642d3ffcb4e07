import Foundation
import HoopoeCore
import Redis
import TestSupport
import Testing

/// A worker's handlers run on the shared connections' threads (decision 0072). One that blocks its thread for longer
/// than the heartbeat's TTL must not make the worker look gone to `hoopoe health-check`, which would have an
/// orchestrator restart a live worker: the worker's heartbeat beats on a connection of its own (decision 0073).
/// In `make test`'s serial phase (HEAVY_SUITES): in the parallel one, other tests' work on this process's cooperative pool
/// once held the beat loop's wake-up past the record's 2 s TTL (session 44), a load no worker's own handlers put there.
/// Serialized: the second test blocks every cooperative thread of this process for 4 s, which, run beside the first,
/// starved the first's observer loop (6 looks where 10 were asked): the suite failed when run on its own.
@Suite(.serialized)
struct HeartbeatOwnConnectionTests {
    @Test func beatsGoOnWhileBothSharedConnectionsThreadsAreBlocked() async throws {
        let redis = try TestRedis.client(poolSize: 2)
        defer { redis.close() }
        let observer = try TestRedis.client(poolSize: 1)  // its own thread, which nothing blocks
        defer { observer.close() }
        let jobs = JobQueue(redis: redis, namespace: TestRedis.uniquePrefix())
        let key = GlobalKeys(namespace: jobs.namespace).process("w1")
        // Beats every 500 ms with a TTL of 2 s (three intervals, rounded up to whole seconds).
        let heartbeat = Heartbeat(kind: "worker", id: "w1", jobs: jobs, interval: .milliseconds(500), ownConnection: true)
        let beating = Task { await heartbeat.run() }
        defer { beating.cancel() }
        #expect(try await eventually { try await observer.send("EXISTS", key).int == 1 })

        // A handler's synchronous call on each shared thread, for twice the beat's TTL.
        let blocked = try await BlockedConnectionThreads.block(redis, forSeconds: 4)
        let clock = ContinuousClock()
        let blockSeen = clock.now
        let firstBeat = try await beatAt(key, observer)
        var missing = 0
        var samples = 0
        var lastBeat = firstBeat
        while !blocked.anyFree {
            samples += 1
            // Read while the threads are blocked: after them, a loaded machine may let the record lapse before a look.
            let beat = try await beatAt(key, observer)
            if beat == 0 { missing += 1 } else { lastBeat = max(lastBeat, beat) }
            try await Task.sleep(for: .milliseconds(50))
        }
        // How long the observer saw the threads blocked: on a loaded machine less than the 4 s asked for.
        let blockedFor = (clock.now - blockSeen).seconds
        await blocked.untilFree()
        #expect(samples >= 10, "the observer kept looking while the threads were blocked")
        #expect(missing == 0, "the process record expired in \(missing) of \(samples) looks while the shared connections' threads were blocked")
        // Beats kept coming through the block, at least a TTL's worth past the first (the record never lapsing, above,
        // is the strict part). A fixed 3 s of the 4 s block failed under make test's parallel load at 2.98 and 2.28 s:
        // the beat loop's sleeps run late on a loaded machine, though never by the TTL.
        #expect(blockedFor >= 2 && lastBeat - firstBeat >= 2, "beats kept coming: the last at \(lastBeat - firstBeat) s after the first, the threads blocked for \(blockedFor) s")
    }

    /// Handlers run on Swift's cooperative pool when no backlog puts them on the connections' threads (always on a
    /// cluster): one blocking handler per core held the beat loop's wake-up, on the pool, past its TTL.
    @Test func beatsGoOnWhileEveryCooperativeThreadIsBlocked() async throws {
        let redis = try TestRedis.client(poolSize: 2)
        defer { redis.close() }
        let jobs = JobQueue(redis: redis, namespace: TestRedis.uniquePrefix())
        let key = GlobalKeys(namespace: jobs.namespace).process("w1")
        let heartbeat = Heartbeat(kind: "worker", id: "w1", jobs: jobs, interval: .milliseconds(500), ownConnection: true)
        let beating = Task { await heartbeat.run() }
        defer { beating.cancel() }
        #expect(try await eventually { try await redis.send("EXISTS", key).int == 1 })
        // The observer is a process of its own: nothing on this process's pool runs while it is blocked. One look every
        // 100 ms for 5 s, each the beat's time or an empty line when the record is gone.
        let url = try TestRedis.url()
        let observer = try ChildProcess("/bin/sh", ["-c", "for i in $(seq 50); do redis-cli -u \"$URL\" --no-raw HGET \"$KEY\" beat_at; sleep 0.1; done"],
                                        environment: ["URL": url, "KEY": key])
        try await Task.sleep(for: .milliseconds(300))
        // One blocking handler per core, for twice the beat's TTL.
        let blockers = (0..<ProcessInfo.processInfo.activeProcessorCount).map { _ in Task.detached { _ = usleep(4_000_000) } }
        for blocker in blockers { await blocker.value }
        _ = await observer.wait(timeout: .seconds(20))
        let looks = observer.output.split(separator: "\n", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let beats = looks.compactMap { Double($0.trimmingCharacters(in: CharacterSet(charactersIn: "\""))) }
        #expect(looks.count >= 30, "the observer looked: \(looks)")
        #expect(beats.count == looks.count, "the record was gone in \(looks.count - beats.count) of \(looks.count) looks: \(looks)")
        #expect((beats.max() ?? 0) - (beats.min() ?? 0) >= 3, "beats kept coming through the block: \(beats)")
    }

    private func beatAt(_ key: String, _ observer: RedisClient) async throws -> Double {
        Double(try await observer.send("HGET", key, "beat_at").string ?? "") ?? 0
    }
}
