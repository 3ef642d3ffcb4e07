import Foundation
import HoopoeCore
import HoopoeJSON
import Logging
import Redis
import Synchronization
import TestSupport
import Testing

/// The busy page's time column is `XPENDING`'s idle time, which each lease renewal (every 2 s) resets: headed "Held
/// for", it read "0s" for a job that had run 21 s, and docs/operating.md promised "since when". It is named for what it
/// is.
@Suite struct BusyPageTests {
    @Test func theTimeColumnSaysItCountsFromTheLastLeaseRenewal() async throws {
        let harness = try DashboardHarness()
        _ = try await harness.jobs.enqueue(type: "diag.record", payload: .object([:]), options: EnqueueOptions(queue: "default"))
        let keys = harness.jobs.keys("default")
        _ = try await harness.redis.pipeline([RedisCommand("XGROUP", "CREATE", keys.stream, QueueKeys.group, "0", "MKSTREAM")])
        _ = try await harness.redis.send("XREADGROUP", "GROUP", QueueKeys.group, "w1", "COUNT", "1", "STREAMS", keys.stream, ">")
        let page = try await harness.get("/busy")
        #expect(page.text.contains(">Lease renewed</th>"), "\(page.text)")
        #expect(page.text.contains("not how long the job has run"), "the header's tooltip says what it is not")
        #expect(!page.text.contains("Held for"), "\(page.text)")
        #expect(page.text.contains("s ago</td>"), "a time since, not a duration: \(page.text)")
    }
}

/// The processes table (Busy and the overview) shows each worker's state from its heartbeat: a quiet worker (SIGTSTP)
/// read as any other, its Busy `0 of 20` and its queues listed, while it fetched nothing.
@Suite struct BusyPageWorkerStateTests {
    /// The `<tr>` of the processes table for process `id`.
    private func row(_ page: String, process id: String) -> String? {
        page.components(separatedBy: "<tr>").first { $0.contains("<td><code>\(id)</code></td>") }
    }

    @Test func aQuietWorkerIsShownQuiet() async throws {
        let harness = try DashboardHarness()
        try await Heartbeat(kind: "worker", id: "w-quiet", jobs: harness.jobs) {
            ["busy": "0", "concurrency": "20", "queues": "critical,default,low", ProcessRecord.stateField: "quiet"]
        }.beat()
        try await Heartbeat(kind: "worker", id: "w-run", jobs: harness.jobs) { ["busy": "1", "concurrency": "4", "queues": "default", ProcessRecord.stateField: "running"] }.beat()
        try await Heartbeat(kind: "worker", id: "w-old", jobs: harness.jobs) { ["busy": "0", "concurrency": "4", "queues": "default"] }.beat()
        for path in ["/busy", "/"] {
            let page = try await harness.get(path).text
            #expect(page.contains(">State</th>"), "\(path): \(page)")
            #expect(row(page, process: "w-quiet")?.contains("<td class=\"state\"><span class=\"not-fetching\">quiet</span></td>") == true, "\(path): \(page)")
            #expect(row(page, process: "w-run")?.contains("<td class=\"state\">running</td>") == true, "\(path): \(page)")
            #expect(row(page, process: "w-old")?.contains("<td class=\"state\">running</td>") == true, "an older release's worker fetches: \(page)")
        }
    }
}

/// Each held job says whether it runs, and since when (its worker's heartbeat, ``ProcessRun``), or waits in the
/// worker's buffer: the page said neither (a worker recorded no run's start), and a job that had run for an hour read
/// as one fetched a moment ago.
@Suite struct BusyPageRunStartTests {
    /// Runs until its gate opens.
    struct Held: JobHandler {
        struct Payload: Codable, Sendable { let n: Int }
        static let type = "test.held"
        let gate: TestGate
        func run(_ payload: Payload, context: JobContext) async throws { await gate.wait() }
    }

    /// The `<tr>` of the busy table that links job `id`.
    private func row(_ page: String, job id: String) -> String? {
        page.components(separatedBy: "<tr>").first { $0.contains("id=\(id)\"") }
    }

    /// A worker with one runner holds two jobs: the first runs (at the gate), the second waits in its buffer. After a
    /// heartbeat, the first's row shows when it started, by the run's start the worker listed; the second's says it
    /// waits; both keep "Lease renewed".
    @Test func aRunningJobShowsItsStartAndAPrefetchedOneWaits() async throws {
        let harness = try DashboardHarness()
        let gate = TestGate()
        var registry = JobRegistry()
        registry.register(Held(gate: gate))
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let options = WorkerOptions(
            queues: QueueSelection(["default"]), concurrency: 1, prefetch: 2, fetchBlock: .milliseconds(200), shutdownTimeout: .seconds(2))
        let worker = Worker(jobs: harness.jobs, registry: registry, options: options, logger: logger)
        let before = Date().timeIntervalSince1970
        let first = try #require(try await harness.jobs.enqueue(type: Held.type, payload: .object(["n": 1])).createdID)
        let second = try #require(try await harness.jobs.enqueue(type: Held.type, payload: .object(["n": 2])).createdID)
        let task = Task { try await worker.run() }
        defer {
            gate.open()
            worker.shutdown()
        }
        #expect(try await eventually { gate.waiting == 1 }, "the first job runs")
        #expect(try await eventually { try await harness.jobs.store.heldEntries(queue: "default", limit: 10).count == 2 }, "both are held")
        try await Task.sleep(for: .milliseconds(1200))  // long enough to read "1s ago" or more
        let beat = Date().timeIntervalSince1970
        try await Heartbeat(kind: "worker", id: worker.options.consumer, jobs: harness.jobs) { worker.heartbeatFields }.beat()

        let page = try await harness.get("/busy")
        #expect(page.text.contains(">Started</th>") && page.text.contains(">Lease renewed</th>"), "\(page.text)")
        #expect(page.text.contains("the worker host&#39;s clock") || page.text.contains("the worker host's clock"), "the note names the clock")
        let running = try #require(row(page.text, job: first), "\(page.text)")
        // "<n>s ago (<the start, UTC>)": a start between the enqueue and the beat, as this host and the worker share a clock.
        let utc = DateFormatter()
        utc.locale = Locale(identifier: "en_US_POSIX")
        utc.timeZone = TimeZone(identifier: "UTC")
        utc.dateFormat = "yyyy-MM-dd HH:mm:ss 'UTC'"
        let plausible = stride(from: before.rounded(.down), through: beat.rounded(.up), by: 1).map { utc.string(from: Date(timeIntervalSince1970: $0)) }
        #expect(plausible.contains { running.contains("(\($0))") }, "a start between \(plausible.first ?? "") and \(plausible.last ?? ""): \(running)")
        let ago = running.range(of: #"<td title="by the worker host's clock">(\d+)s ago"#, options: .regularExpression).map { String(running[$0]) }
        let seconds = ago.flatMap { Int($0.filter(\.isNumber)) }
        #expect(seconds.map { $0 >= 1 && $0 <= Int(beat - before) + 5 } == true, "ran for a plausible time: \(running)")
        #expect(!running.contains("not running (prefetched, or settling)"))
        let waiting = try #require(row(page.text, job: second), "\(page.text)")
        #expect(waiting.contains(">not running (prefetched, or settling)</td>") && !waiting.contains("s ago ("), "\(waiting)")
        #expect(waiting.contains("s ago</td>"), "its lease column stays: \(waiting)")

        gate.open()
        worker.shutdown()
        try await task.value
    }

    /// A job missing from a worker's list when the list was cut at ``ProcessRun/listedLimit`` may run: it is not called
    /// waiting. A worker of an earlier release lists no runs: the page does not guess.
    @Test func aJobMissingFromACutListOrAnOlderWorkersIsNotCalledWaiting() async throws {
        let harness = try DashboardHarness()
        _ = try await harness.jobs.enqueue(type: "diag.record", payload: .object([:]), options: EnqueueOptions(queue: "default"))
        _ = try await harness.jobs.enqueue(type: "diag.record", payload: .object([:]), options: EnqueueOptions(queue: "mail"))
        for queue in ["default", "mail"] {
            let keys = harness.jobs.keys(queue)
            _ = try await harness.redis.pipeline([RedisCommand("XGROUP", "CREATE", keys.stream, QueueKeys.group, "0", "MKSTREAM")])
        }
        _ = try await harness.redis.send("XREADGROUP", "GROUP", QueueKeys.group, "w-full", "COUNT", "1", "STREAMS", harness.jobs.keys("default").stream, ">")
        _ = try await harness.redis.send("XREADGROUP", "GROUP", QueueKeys.group, "w-old", "COUNT", "1", "STREAMS", harness.jobs.keys("mail").stream, ">")
        let listed = (0..<ProcessRun.listedLimit).map { "default 1-\($0) 1700000000.000" }.joined(separator: ",")
        try await Heartbeat(kind: "worker", id: "w-full", jobs: harness.jobs) { ["busy": "150", "concurrency": "200", ProcessRun.field: listed] }.beat()
        try await Heartbeat(kind: "worker", id: "w-old", jobs: harness.jobs) { ["busy": "1", "concurrency": "4"] }.beat()
        let page = try await harness.get("/busy")
        #expect(!page.text.contains("not running (prefetched, or settling)"), "\(page.text)")
        let full = try #require(page.text.components(separatedBy: "<tr>").first { $0.contains("<code>w-full</code>") && $0.contains("/job?") }, "\(page.text)")
        #expect(full.contains("not listed: running or waiting") && full.contains("100 oldest runs of 150"), "\(full)")
        let old = try #require(page.text.components(separatedBy: "<tr>").first { $0.contains("<code>w-old</code>") && $0.contains("/job?") }, "\(page.text)")
        #expect(old.contains("an earlier release") && old.contains(">-</td>"), "\(old)")
    }
}
