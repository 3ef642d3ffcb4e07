import Foundation
import HoopoeCore
import HoopoeJSON
import Redis
import TestSupport
import Testing

/// `hoopoe queue pause|resume NAME` and what `hoopoe queues` shows of a pause, as an operator runs them.
struct QueuePauseCommandTests {
    @Test func pauseAndResumeAreIdempotentAndShownByQueues() async throws {
        let h = try CLIHarness()
        for _ in 0..<2 { try await h.jobs.enqueue(type: "diag.record", payload: .object([:]), options: EnqueueOptions(queue: "mail")) }

        let (paused, pausedOutput) = try await h.run(["queue", "pause", "mail"])
        #expect(paused == 0, "\(pausedOutput)")
        #expect(pausedOutput.contains("paused queue mail: workers stop fetching from it within a second; its jobs stay ready"), "\(pausedOutput)")
        let (again, againOutput) = try await h.run(["queue", "pause", "mail"])
        #expect(again == 0 && againOutput.contains("queue mail was already paused since "), "\(againOutput)")
        #expect(try await h.jobs.pausedQueues().keys.sorted() == ["mail"])

        let (status, json) = try await h.json(["queues", "--json"])
        #expect(status == 0)
        let mail = (json["queues"]?.arrayValue ?? []).first { $0["name"] == .string("mail") }
        #expect(mail?["paused"] == .bool(true) && mail?["ready"] == .integer(2), "\(String(describing: mail))")
        #expect(mail?["paused_at"]?.stringValue?.hasSuffix("Z") == true)
        let (_, table) = try await h.run(["queues"])
        let header = table.split(separator: "\n").first { $0.hasPrefix("QUEUE") }.map(String.init) ?? ""
        let row = table.split(separator: "\n").first { $0.hasPrefix("mail ") }.map(String.init) ?? ""
        #expect(header.contains("PAUSED") && row.contains("yes ("), "\(table)")

        let (resumed, resumedOutput) = try await h.run(["queue", "resume", "mail"])
        #expect(resumed == 0 && resumedOutput.contains("resumed queue mail"), "\(resumedOutput)")
        let (resumedAgain, resumedAgainOutput) = try await h.run(["queue", "resume", "mail"])
        #expect(resumedAgain == 0 && resumedAgainOutput.contains("queue mail was not paused"), "\(resumedAgainOutput)")
        #expect(try await h.jobs.pausedQueues().isEmpty)
        let (_, after) = try await h.json(["queues", "--json"])
        #expect((after["queues"]?.arrayValue ?? []).first { $0["name"] == .string("mail") }?["paused"] == .bool(false))
    }

    /// A pause is dated by Redis's clock, not the pausing host's: `queue clear` waits out the workers' hand-backs from
    /// it by Redis's clock, and a pauser whose clock ran behind the clearer's made it skip that wait and miss them.
    @Test func aPauseIsDatedByRedisClockNotTheHosts() async throws {
        #expect(FileManager.default.fileExists(atPath: FakeClock.library), "libfaketime is missing: scripts/install-deps.sh installs it")
        let h = try CLIHarness()
        try await h.jobs.enqueue(type: "diag.record", payload: .object([:]), options: EnqueueOptions(queue: "skewed"))
        let offset = try await FakeClock.aheadOffset(preferred: 7_200, atLeast: 180)
        let (status, output) = try await h.run(["queue", "pause", "skewed"], environment: FakeClock.environment(offset: offset))
        #expect(status == 0, "\(output)")
        let redisNow = Double(try await h.redis.send("TIME").array?.first?.string ?? "") ?? 0
        let pausedAt = try #require(try await h.jobs.pausedQueues()["skewed"]).timeIntervalSince1970
        #expect(abs(pausedAt - redisNow) < 60, "paused at \(pausedAt), Redis's clock \(redisNow)")
    }

    /// A paused queue's waiting jobs are not a latency failure; resumed, the same wait is one again.
    /// The worker's record beats again before each check: four CLI runs on a loaded machine may outlast one beat's TTL,
    /// and the check would then fail for "no live worker", not the latency.
    @Test func healthCheckDoesNotFailOnAPausedQueuesLatency() async throws {
        let h = try CLIHarness()
        let heartbeat = Heartbeat(kind: "worker", id: "w1", jobs: h.jobs) { ["queues": "default,slow"] }
        try await heartbeat.beat()
        try await h.jobs.enqueue(type: "diag.record", payload: .object([:]), options: EnqueueOptions(queue: "slow"))
        try await Task.sleep(for: .milliseconds(250))
        let (paused, _) = try await h.run(["queue", "pause", "slow"])
        #expect(paused == 0)
        try await heartbeat.beat()
        let (status, output) = try await h.run(["health-check", "--schedule", noSchedule, "--max-latency", "100ms"])
        #expect(status == 0, "\(output)")
        #expect(output.contains("ok      queue:slow") && output.contains("paused (hoopoe queue resume slow)"), "\(output)")
        _ = try await h.run(["queue", "resume", "slow"])
        try await heartbeat.beat()
        let (resumed, resumedOutput) = try await h.run(["health-check", "--schedule", noSchedule, "--max-latency", "100ms"])
        #expect(resumed == 1 && resumedOutput.contains("fail    queue:slow"), "\(resumedOutput)")
    }

    @Test func anUnknownQueueIsRefusedAndNothingIsPaused() async throws {
        let h = try CLIHarness()
        try await h.jobs.enqueue(type: "diag.record", payload: .object([:]), options: EnqueueOptions(queue: "mail"))
        let (status, output) = try await h.run(["queue", "pause", "mial"])
        #expect(status == 1, "\(output)")
        #expect(output.contains("no queue named mial (known queues: mail)"), "\(output)")
        #expect(try await h.jobs.pausedQueues().isEmpty)
        let (resume, resumeOutput) = try await h.run(["queue", "resume", "mial"])
        #expect(resume == 1 && resumeOutput.contains("no queue named mial"), "\(resumeOutput)")
    }

    @Test func aNameThatCannotBeAQueueIsAUsageError() async throws {
        let h = try CLIHarness()
        for name in ["{mail}", "a..b", ""] {
            let (status, output) = try await h.run(["queue", "pause", name])
            #expect(status == 64, "\(name): \(output)")
            #expect(output.contains("Error: the queue name "), "\(name): \(output)")
        }
        #expect(try await h.jobs.pausedQueues().isEmpty)
    }

    /// `--interval` without `--watch` once printed one report and ended, silently.
    @Test func intervalWithoutWatchIsAUsageError() async throws {
        let h = try CLIHarness()
        let (status, output) = try await h.run(["queues", "--interval", "5"])
        #expect(status == 64 && output.contains("--interval applies to --watch"), "\(output)")
        let (outOfRange, rangeOutput) = try await h.run(["queues", "--watch", "--interval", "0.1"])
        #expect(outOfRange == 64 && rangeOutput.contains("--interval must be 0.2 to 3600 seconds"), "\(rangeOutput)")
    }

    /// Without a terminal, `--watch` prints one report per interval, each after a `hoopoe queues at` line; SIGINT
    /// and SIGTERM end it with exit 0.
    @Test(arguments: [SIGINT, SIGTERM]) func watchPrintsAReportEachIntervalUntilInterrupted(signal: Int32) async throws {
        let h = try CLIHarness()
        try await h.jobs.enqueue(type: "diag.record", payload: .object([:]), options: EnqueueOptions(queue: "mail"))
        let process = try ChildProcess(BuiltProducts.hoopoe, ["queues", "--watch", "--interval", "0.3"], environment: [
            "REDIS_URL": try TestRedis.url(), "HOOPOE_NAMESPACE": h.namespace,
        ])
        defer { process.signal(SIGKILL) }
        #expect(try await h.eventually { Self.reports(process.output).count >= 1 })
        _ = try await h.jobs.pause(queue: "mail")
        // A later report shows the change: the watch reads Redis again each time.
        #expect(try await h.eventually {
            let reports = Self.reports(process.output)
            return reports.count >= 2 && reports.last!.contains { $0.hasPrefix("mail ") && $0.contains("yes (") }
        }, "\(process.output)")
        let first = Self.reports(process.output)[0]
        #expect(first.first?.hasPrefix("QUEUE") == true && first.contains { $0.hasPrefix("mail ") && $0.contains(" no ") }, "\(first)")
        process.signal(signal)
        #expect(await process.wait(timeout: .seconds(5)) == 0, "\(process.output)")
    }

    /// `--watch --json`: one JSON document a line per interval, each read from Redis again.
    @Test func watchWithJSONPrintsOneDocumentALine() async throws {
        let h = try CLIHarness()
        try await h.jobs.enqueue(type: "diag.record", payload: .object([:]), options: EnqueueOptions(queue: "mail"))
        let process = try ChildProcess(BuiltProducts.hoopoe, ["queues", "--watch", "--json", "--interval", "0.3"], environment: [
            "REDIS_URL": try TestRedis.url(), "HOOPOE_NAMESPACE": h.namespace,
        ])
        defer { process.signal(SIGKILL) }
        func documents() -> [JSONValue] { process.output.split(separator: "\n").compactMap { JSONValue.parse(Array($0.utf8)) } }
        #expect(try await h.eventually { documents().count >= 1 })
        _ = try await h.jobs.pause(queue: "mail")
        #expect(try await h.eventually {
            documents().last?["queues"]?.arrayValue?.first { $0["name"] == .string("mail") }?["paused"] == .bool(true)
        }, "\(process.output)")
        #expect(documents().first?["queues"]?.arrayValue?.first?["paused"] == .bool(false))
        // Complete lines only (the last may be being written).
        let lines = process.output.components(separatedBy: "\n").dropLast()
        #expect(!lines.isEmpty && lines.allSatisfy { JSONValue.parse(Array($0.utf8)) != nil }, "every line is a document")
        process.signal(SIGINT)
        #expect(await process.wait(timeout: .seconds(5)) == 0)
    }

    /// A redraw takes the queue list a scan kept (30 s) instead of scanning the whole keyspace again: against a Redis
    /// of millions of keys, five scans a second a watcher cost more than the report.
    @Test func watchScansTheKeysOnceNotAtEveryRedraw() async throws {
        let server = try RedisServer()
        let redis = try RedisClient(url: server.url)
        defer { redis.close() }
        try await JobQueue(redis: redis).enqueue(type: "diag.record", payload: .object([:]), options: EnqueueOptions(queue: "mail"))
        _ = try await redis.send("CONFIG", "RESETSTAT")
        let process = try ChildProcess(BuiltProducts.hoopoe, ["queues", "--watch", "--json", "--interval", "0.2"], environment: ["REDIS_URL": server.url])
        defer { process.signal(SIGKILL) }
        func documents() -> Int { process.output.split(separator: "\n").filter { JSONValue.parse(Array($0.utf8)) != nil }.count }
        #expect(try await eventually(timeout: .seconds(20)) { documents() >= 8 }, "\(process.output)")
        let stats = try await redis.send("INFO", "commandstats").string ?? ""
        let scans = stats.split(separator: "\r\n").first { $0.hasPrefix("cmdstat_scan:") }.flatMap { line in
            line.split(separator: ",").first.flatMap { Int($0.split(separator: "=").last ?? "") }
        } ?? 0
        #expect((1...2).contains(scans), "SCAN calls over \(documents()) reports: \(scans)")
        process.signal(SIGINT)
        #expect(await process.wait(timeout: .seconds(5)) == 0)
    }

    /// `--watch --json` while Redis goes away: the failed redraws are JSON documents too (`{"error", "at"}`), not a plain
    /// line in the middle of the stream its readers parse line by line.
    @Test func watchWithJSONReportsAFailedRedrawAsJSON() async throws {
        let server = try RedisServer()
        let process = try ChildProcess(BuiltProducts.hoopoe, ["queues", "--watch", "--json", "--interval", "0.2"], environment: ["REDIS_URL": server.url + "?timeout=1"])
        defer { process.signal(SIGKILL) }
        func lines() -> [Substring] { process.output.split(separator: "\n") }
        #expect(try await eventually(timeout: .seconds(20)) { lines().count >= 2 }, "\(process.output)")
        server.stop()
        #expect(try await eventually(timeout: .seconds(20)) {
            lines().contains { JSONValue.parse(Array($0.utf8))?["error"]?.stringValue?.contains("unreachable") == true }
        }, "\(process.output)")
        let stdout = lines().filter { $0.hasPrefix("{") || $0.hasPrefix("Redis") }
        #expect(stdout.allSatisfy { JSONValue.parse(Array($0.utf8)) != nil }, "every report line is JSON: \(process.output)")
        process.signal(SIGINT)
        #expect(await process.wait(timeout: .seconds(5)) == 0)
    }

    /// On a terminal (a pty from `script`), each report starts by clearing the screen; SIGTERM still ends it with 0.
    @Test func watchOnATerminalClearsTheScreenBeforeEachReport() async throws {
        let h = try CLIHarness()
        try await h.jobs.enqueue(type: "diag.record", payload: .object([:]), options: EnqueueOptions(queue: "mail"))
        let process = try ChildProcess("/usr/bin/script", ["-qfec", "\(BuiltProducts.hoopoe) queues --watch --interval 0.3", "/dev/null"], environment: [
            "REDIS_URL": try TestRedis.url(), "HOOPOE_NAMESPACE": h.namespace,
        ])
        defer { process.signal(SIGKILL) }
        let clear = "\u{1B}[H\u{1B}[2J"
        #expect(try await h.eventually { process.output.components(separatedBy: clear + "hoopoe queues at ").count >= 3 }, "\(process.output)")
        #expect(process.output.hasPrefix(clear), "\(process.output)")
        process.signal(SIGTERM)  // script passes it on to hoopoe and exits with its status
        #expect(await process.wait(timeout: .seconds(5)) == 0, "\(process.output)")
    }

    /// The reports in `output`: the lines after each `hoopoe queues at` line up to the next, blank lines dropped.
    private static func reports(_ output: String) -> [[String]] {
        var reports: [[String]] = []
        for line in output.split(separator: "\n").map(String.init) {
            if line.hasPrefix("hoopoe queues at ") {
                reports.append([])
            } else if !reports.isEmpty && !line.isEmpty {
                reports[reports.count - 1].append(line)
            }
        }
        // The last report may still be being written: only those followed by another header, plus a complete last one.
        return reports.filter { $0.contains { $0.hasPrefix("No live schedulers.") || $0.hasPrefix("SCHEDULER") } }
    }
}
