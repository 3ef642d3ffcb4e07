import Foundation
@testable import HoopoeCore
import Redis
import Testing

/// How much of a dead worker's jobs one recovery round claims: the room below the fetch's depth, `prefetch` or, while
/// short jobs outrun the fetches, `maxPrefetch` (decisions 0069 and 0071).
@Suite struct JobRecoveryTests {
    /// A consumer took 60 jobs and died; their lease lapsed. A round of a worker whose fetch is shallow claims up to
    /// its `prefetch`; one whose fetch went deep (a backlog of short jobs) up to its `maxPrefetch`. Below `prefetch`
    /// alone, a deep worker, which holds up to `maxPrefetch`, often had no room and left them round after round.
    @Test func aRoundClaimsIntoTheRoomBelowTheFetchsDepth() async throws {
        let h = try EngineHarness()
        for i in 0..<60 { _ = try await h.jobs.enqueue(type: "diag.record", payload: h.diag(key: "\(h.namespace):rec", member: "m\(i)")) }
        let stream = h.jobs.keys("default").stream
        _ = try await h.redis.send("XGROUP", "CREATE", stream, QueueKeys.group, "0", "MKSTREAM")
        let taken = try await h.redis.send(RedisCommand("XREADGROUP", ["GROUP", QueueKeys.group, "ghost", "COUNT", "100", "STREAMS", stream, ">"]))
        #expect(taken.array?.first?.array?.last?.array?.count == 60)
        try await Task.sleep(for: .milliseconds(300))  // past the 100 ms lease

        let options = WorkerOptions(concurrency: 2, prefetch: 4, maxPrefetch: 40, lease: .milliseconds(100))
        var claimed: [Int] = []
        for depth in [options.prefetch, options.maxPrefetch] {
            let buffer = JobBuffer(selection: options.queues)
            buffer.setFetchDepth(depth)
            let leases = Leases()
            let recovery = JobRecovery(
                store: h.jobs.store, options: options, buffer: buffer, leases: leases, lifecycle: WorkerLifecycle(runners: 2),
                handBack: HandBack(store: h.jobs.store, leases: leases, logger: EngineHarness.quietLogger), logger: EngineHarness.quietLogger)
            try await recovery.round()
            claimed.append(buffer.count)
        }
        #expect(claimed == [4, 40])
        // Never below prefetch: a worker that has not fetched yet (depth 0) claims up to prefetch.
        let buffer = JobBuffer(selection: options.queues)
        #expect(buffer.room(keepingAtLeast: options.prefetch) == 4)
        buffer.setFetchDepth(40)
        _ = buffer.put(fetchedJobs(count: 30))
        #expect(buffer.room(keepingAtLeast: options.prefetch) == 10)
    }

    private func fetchedJobs(count: Int) -> [FetchedJob] {
        (0..<count).map { FetchedJob(queue: "default", entryID: "1-\($0)", bytes: [], deliveries: 1) }
    }
}
