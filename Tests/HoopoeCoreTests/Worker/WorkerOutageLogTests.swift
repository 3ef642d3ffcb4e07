import Foundation
import Redis
import TestSupport
import Testing

@testable import HoopoeCore

/// What a worker logs while Redis is away: each failing background step by name, and the fetch, once until the error
/// changes (or a minute passes), then once when it works again. Every round of every step said "background step failed;
/// will retry", naming none, and every fetch "fetch failed (attempt N)": ~3,000 lines an hour a worker during an outage.
/// A private `redis-server`, killed and started again on its port; the client's reconnect window is cut to 200 ms so
/// that rounds fail as fast as their intervals (with the 3 s default, a few seconds of outage fail few rounds).
@Suite(.serialized) struct WorkerOutageLogTests {
    @Test func anOutageIsLoggedOnceAStepByNameAndItsEndOnce() async throws {
        let server = try RedisServer()
        var configuration = try RedisConfiguration(url: server.url)
        configuration.reconnectWindow = .milliseconds(200)
        configuration.connectTimeout = .milliseconds(200)
        let redis = RedisClient(configuration: configuration)
        defer { redis.close() }
        let lines = CapturedLog()
        let jobs = JobQueue(redis: redis, namespace: TestRedis.uniquePrefix("outage-log"))
        let worker = Worker(jobs: jobs, registry: .diagnostic, options: .fastTest(), logger: lines.logger)
        let running = Task { try await worker.run() }
        defer { running.cancel() }
        #expect(try await eventually { lines.all.contains { $0.contains("serving") } }, "\(lines.all)")

        server.kill()
        // Promotion's rounds come every 50 ms, recovery's every 200 ms, the watches' every 500 ms, and the fetch's
        // every 100 ms to 2 s: each would have logged many lines by now.
        try await Task.sleep(for: .seconds(4))
        let outage = lines.all
        let steps = ["recovery", "promotion", "pause watch", "cancel watch"]
        for step in steps {
            let said = outage.filter { $0.contains("background step \(step) failed") }
            // Once, or once more a change of error (the connection lost, then refused).
            #expect((1...3).contains(said.count), "\(step): \(said)")
        }
        let fetches = outage.filter { $0.contains("fetch failed") }
        #expect((1...3).contains(fetches.count), "\(fetches)")
        #expect(!outage.contains { $0.contains("background step failed") }, "every step's line names it")
        let warnings = outage.filter { $0.hasPrefix("warning") }
        #expect(warnings.count <= 15, "\(warnings.count) warnings in 4 s of outage: \(warnings)")

        try server.start()
        #expect(try await eventually {
            let all = lines.all
            return steps.allSatisfy { step in all.contains { $0.contains("background step \(step) works again") } }
                && all.contains { $0.contains("fetch works again") }
        }, "\(lines.all.suffix(20))")
        let recovered = lines.all.filter { $0.contains("works again") }
        #expect(recovered.count == steps.count + 1, "the end said once each: \(recovered)")
        worker.shutdown()
        try await running.value
    }

    /// The rule itself: said at once, not again while the problem is the same within the minute, again when it changes
    /// or after the minute, and its end once.
    @Test func aRepeatedFailureIsSaidWhenItsProblemChangesOrEachMinute() {
        struct Problem: Error, CustomStringConvertible { let description: String }
        var failure = RepeatedFailure()
        let start = ContinuousClock.now
        #expect(failure.succeeded() == nil, "nothing to end")
        #expect(failure.failed(Problem(description: "refused"), now: start) == "refused", "the first, at once")
        #expect(failure.failed(Problem(description: "refused"), now: start + .seconds(30)) == nil)
        #expect(failure.failed(Problem(description: "timed out"), now: start + .seconds(31)) == "timed out", "a new problem")
        #expect(failure.failed(Problem(description: "timed out"), now: start + .seconds(90)) == nil)
        #expect(failure.failed(Problem(description: "timed out"), now: start + .seconds(92)) == "timed out", "a minute on")
        #expect(failure.count == 5)
        #expect(failure.succeeded() == 5)
        #expect(failure.succeeded() == nil, "ended once")
        #expect(failure.failed(Problem(description: "timed out"), now: start + .seconds(93)) == "timed out", "a new outage is said at once")
    }
}
