import Foundation
@testable import HoopoeCore
import HoopoeJSON
import Testing

/// How deep a fetch loop keeps its buffer (decision 0069): `prefetch`, and `maxPrefetch` only while short jobs empty
/// the buffer before each fetch comes back on a queue with more waiting.
@Suite struct FetchDepthTests {
    @Test func theDefaultsAreTwiceAndFourTimesTheConcurrencyAndAGivenPrefetchIsFixed() {
        let defaults = WorkerOptions(concurrency: 20)
        #expect(defaults.prefetch == 40 && defaults.maxPrefetch == 80)
        let given = WorkerOptions(concurrency: 20, prefetch: 10)
        #expect(given.prefetch == 10 && given.maxPrefetch == 10, "a prefetch given alone is a fixed depth")
        let both = WorkerOptions(concurrency: 20, prefetch: 10, maxPrefetch: 30)
        #expect(both.prefetch == 10 && both.maxPrefetch == 30)
        let below = WorkerOptions(concurrency: 20, prefetch: 10, maxPrefetch: 5)
        #expect(below.maxPrefetch == 10, "never below prefetch")
        // A prefetch raised after init (as a test may) is never deeper than what was set.
        var raised = WorkerOptions(concurrency: 1)
        raised.prefetch = 300
        #expect(FetchDepth(prefetch: raised.prefetch, maxPrefetch: raised.maxPrefetch).deep == 300)
    }

    @Test func itStartsAtPrefetchAndRefillsAtHalf() {
        let depth = FetchDepth(prefetch: 40, maxPrefetch: 80)
        #expect(depth.current == 40)
        #expect(depth.refillBelow == 21)
        #expect(depth.wanted(holding: 20) == 20)
        #expect(depth.wanted(holding: 40) == 1, "a fetch asks for at least one job")
    }

    /// Slow jobs: the runners never empty the buffer, so every fetch comes back to a buffer holding jobs.
    @Test func slowJobsKeepThePrefetch() {
        var depth = FetchDepth(prefetch: 40, maxPrefetch: 80)
        depth.record(fetched: 40, wanted: 40, bufferWasEmpty: true)  // the first fetch of a backlog
        for _ in 0..<100 {
            depth.record(fetched: 20, wanted: 20, bufferWasEmpty: false)
            #expect(depth.current == 40)
        }
    }

    /// Short jobs on a backlog: the buffer is empty whenever a fetch comes back, and each fetch is full.
    @Test func shortJobsOnABacklogGoDeepAfterTwoFullFetches() {
        var depth = FetchDepth(prefetch: 40, maxPrefetch: 80)
        depth.record(fetched: 40, wanted: 40, bufferWasEmpty: true)
        #expect(depth.current == 40, "one full fetch into an empty buffer is only the start of a backlog")
        depth.record(fetched: 25, wanted: 25, bufferWasEmpty: true)
        #expect(depth.current == 80)
        #expect(depth.refillBelow == 41)
        #expect(depth.wanted(holding: 30) == 50)
        // Deep, it stays deep while fetches are full, whether or not the buffer ran empty meanwhile.
        depth.record(fetched: 50, wanted: 50, bufferWasEmpty: false)
        #expect(depth.current == 80)
    }

    /// A fetch that brings fewer jobs than asked for (the queue ran short, or the blocking read timed out) goes back to
    /// `prefetch`, and two full fetches are needed again.
    @Test func aShortFetchGoesBackToThePrefetch() {
        var depth = FetchDepth(prefetch: 40, maxPrefetch: 80)
        depth.record(fetched: 40, wanted: 40, bufferWasEmpty: true)
        depth.record(fetched: 40, wanted: 40, bufferWasEmpty: true)
        #expect(depth.current == 80)
        depth.record(fetched: 12, wanted: 50, bufferWasEmpty: true)
        #expect(depth.current == 40)
        depth.record(fetched: 0, wanted: 40, bufferWasEmpty: true)
        depth.record(fetched: 40, wanted: 40, bufferWasEmpty: true)
        #expect(depth.current == 40)
        depth.record(fetched: 40, wanted: 40, bufferWasEmpty: true)
        #expect(depth.current == 80)
    }

    /// `COUNT` applies to each stream of a read, so a read of several queues can bring as many jobs as were asked
    /// for while every queue ran short: the fetch is full only when one queue gave all that was asked of it.
    @Test func aReadOfSeveralQueuesIsFullOnlyWhenOneQueueGaveAllThatWasAsked() {
        func jobs(_ shares: [(String, Int)]) -> [FetchedJob] {
            var made: [FetchedJob] = []
            for (queue, count) in shares {
                for n in 0..<count { made.append(FetchedJob(queue: queue, entryID: "\(made.count + n + 1)-0", bytes: [], deliveries: 1)) }
            }
            return made
        }
        var depth = FetchDepth(prefetch: 40, maxPrefetch: 80)
        for _ in 0..<3 {
            depth.record(jobs([("critical", 20), ("default", 15), ("low", 10)]), wanted: 40, bufferWasEmpty: true)
            #expect(depth.current == 40, "45 jobs, but no queue gave the 40 asked of it")
        }
        depth.record(jobs([("critical", 2), ("default", 40), ("low", 1)]), wanted: 40, bufferWasEmpty: true)
        depth.record(jobs([("default", 40)]), wanted: 40, bufferWasEmpty: true)
        #expect(depth.current == 80)
        depth.record(jobs([("critical", 3), ("default", 39)]), wanted: 40, bufferWasEmpty: true)
        #expect(depth.current == 40)
    }

    @Test func aFixedPrefetchNeverGoesDeeper() {
        var depth = FetchDepth(prefetch: 10, maxPrefetch: 10)
        for _ in 0..<10 { depth.record(fetched: 10, wanted: 10, bufferWasEmpty: true) }
        #expect(depth.current == 10)
    }

    /// The backlog the runners' placement follows (decision 0076): the deep depth, or with a fixed depth two full
    /// fetches in a row; a short fetch ends it.
    @Test func aBacklogIsTheDeepDepthOrWithAFixedDepthTwoFullFetches() {
        var varying = FetchDepth(prefetch: 40, maxPrefetch: 80)
        varying.record(fetched: 40, wanted: 40, bufferWasEmpty: true)
        #expect(!varying.backlog)
        varying.record(fetched: 40, wanted: 40, bufferWasEmpty: true)
        #expect(varying.backlog && varying.current == 80)
        varying.record(fetched: 3, wanted: 80, bufferWasEmpty: true)
        #expect(!varying.backlog)
        varying.record(fetched: 20, wanted: 20, bufferWasEmpty: false)
        varying.record(fetched: 20, wanted: 20, bufferWasEmpty: false)
        #expect(!varying.backlog, "slow jobs keep the prefetch, and the pool")

        var fixed = FetchDepth(prefetch: 4, maxPrefetch: 4)
        fixed.record(fetched: 4, wanted: 4, bufferWasEmpty: false)
        #expect(!fixed.backlog)
        fixed.record(fetched: 2, wanted: 2, bufferWasEmpty: false)
        #expect(fixed.backlog)
        fixed.record(fetched: 1, wanted: 4, bufferWasEmpty: true)
        #expect(!fixed.backlog)
    }

    /// What a user relies on: a worker running slow jobs from a backlog holds back no more than its `prefetch` beyond
    /// the jobs it runs, so other workers get the rest. Concurrency 2, `prefetch` 4 and, to keep the two depths far
    /// apart, `maxPrefetch` 40. Kept to 4, the worker holds at most 8: 2 running, 4 fetched and 2 finished whose
    /// acknowledgements are on their way (the two runners finish together); 10 allows for a slow machine. At 40 it
    /// would hold 22 or more. The 2.5 s of sampling start when the worker holds its first job (from its start, a
    /// loaded machine could leave too little of them), and the jobs take a second, so acknowledgements that come late
    /// add few to the count.
    @Test(.timeLimit(.minutes(1))) func aWorkerOnSlowJobsHoldsNoMoreThanItsPrefetch() async throws {
        let h = try EngineHarness("fetchdepth")
        var registry = JobRegistry()
        registry.register(Nap())
        _ = try await h.jobs.enqueueBatch((0..<80).map { _ in (type: Nap.type, payload: .object([:]), options: EnqueueOptions()) })
        var options = WorkerOptions.fastTest(concurrency: 2)
        options.prefetch = 4
        options.maxPrefetch = 40
        let (worker, task) = h.startWorker(registry, options: options)
        #expect(try await h.eventually { try await h.jobs.info(queue: "default").inFlight > 0 })
        var most = 0
        let until = ContinuousClock.now + .seconds(2.5)
        while ContinuousClock.now < until {
            most = max(most, try await h.jobs.info(queue: "default").inFlight)
            try await Task.sleep(for: .milliseconds(10))
        }
        worker.shutdown()
        try await task.value
        #expect(most >= 5, "the worker held \(most): it prefetched nothing")
        #expect(most <= 10, "the worker held \(most) jobs of slow ones: more than its prefetch beyond its runners")
    }
}

/// Runs for a second.
private struct Nap: JobHandler {
    struct Payload: Codable, Sendable {}
    static let type = "test.nap"
    func run(_ payload: Payload, context: JobContext) async throws {
        try await Task.sleep(for: .seconds(1))
    }
}
