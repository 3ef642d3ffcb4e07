import Foundation
import HoopoeCore
import Redis
import TestSupport
import Testing

/// Real `hoopoe worker`, `hoopoe scheduler` and `hoopoe enqueue` processes on a `redis-sentinel://` URL, against
/// real sentinels (``SentinelGroup``): they follow a `SENTINEL FAILOVER` within 5 s, and nothing goes on writing to
/// the demoted primary; with `REDIS_WAIT_REPLICAS=1` no enqueue that returned OK is lost.
@Suite("Sentinel failover with hoopoe processes", .serialized)
struct SentinelProcessTests {
    private let namespace = "sentinel\(UUID().uuidString.prefix(8))"

    private func environment(_ group: SentinelGroup, _ extra: [String: String] = [:]) -> [String: String] {
        ["REDIS_URL": group.url, "HOOPOE_NAMESPACE": namespace, "LOG_LEVEL": "notice"].merging(extra) { $1 }
    }

    private func enqueue(_ group: SentinelGroup, key: String, member: String? = nil, _ extra: [String: String] = [:]) async throws -> (status: Int32, output: String) {
        let (type, payload) = member.map { ("diag.record", "{\"key\":\"\(key)\",\"member\":\"\($0)\"}") } ?? ("diag.incr", "{\"key\":\"\(key)\"}")
        let process = try ChildProcess(BuiltProducts.hoopoe, ["enqueue", type, "--payload", payload], environment: environment(group, extra))
        guard let status = await process.wait(timeout: .seconds(20)) else { throw TestSupportError("hoopoe enqueue hung: \(process.output)") }
        return (status, process.output)
    }

    /// How many times each command that writes (or reads a queue for a worker) ran on a node, from `INFO commandstats`:
    /// while the node is a master nothing replicates into it, so any change is a client's.
    private func writeCounts(_ node: RedisClient) async throws -> [String: Int] {
        let text = try await node.send("INFO", "commandstats").string ?? ""
        var counts: [String: Int] = [:]
        for line in text.split(separator: "\r\n") where line.hasPrefix("cmdstat_") {
            let name = line.dropFirst(8).prefix { $0 != ":" }
            guard ["xadd", "evalsha", "fcall", "incr", "hset", "set", "zadd", "xreadgroup", "xack", "sadd", "del", "zrem"].contains(String(name)),
                let calls = line.firstRange(of: "calls=").map({ line[$0.upperBound...].prefix { $0.isNumber } }) else { continue }
            counts[String(name)] = Int(calls)
        }
        return counts
    }

    /// `hoopoe enqueue --help`'s exit codes when the sentinels hang (SIGSTOP: connections accepted, nothing answered):
    /// the primary's address was never learnt, so nothing was sent: exit 2 ("unreachable, nothing written"), not 4 ("sent,
    /// no answer: check before sending again"), which would have the caller look for a job that cannot exist.
    @Test func enqueueWhileTheSentinelsHangExitsUnreachable() async throws {
        let group = try await SentinelGroup()
        let client = try RedisClient(url: group.url)
        defer { client.close() }
        _ = try await client.send("PING")  // the primary's address, before the sentinels stop
        group.signalSentinels(SIGSTOP)
        defer { group.signalSentinels(SIGCONT) }
        let url = group.url + (group.url.contains("?") ? "&" : "?") + "timeout=1"
        let (status, output) = try await enqueue(group, key: "\(namespace):done", ["REDIS_URL": url])
        #expect(status == 2, "\(output)")
        #expect(output.contains("unreachable") && output.contains("sentinel"), "\(output)")
        #expect(try await client.send("EXISTS", "\(namespace):{default}:stream").int == 0, "nothing was written")
    }

    /// A `master=` no sentinel monitors (a typo): every sentinel answers, none knows it. A starting worker waited for
    /// good, as for an outage, saying why only in its log; it now stops with exit 2 and says what to check, once the
    /// sentinels have not known the name for 30 s (sentinels configured at run time do not, at first).
    @Test func aWorkerStartedWithAMasterNameNoSentinelKnowsStops() async throws {
        let group = try await SentinelGroup()
        let url = group.url.replacingOccurrences(of: "master=\(group.masterName)", with: "master=hoopoe-primry")
        let worker = try ChildProcess(BuiltProducts.hoopoe, ["worker", "--queues", "default"], environment: environment(group, ["REDIS_URL": url]))
        defer { worker.signal(SIGKILL) }
        try await Task.sleep(for: .seconds(20))
        #expect(worker.poll() == nil, "still waiting within the grace: \(worker.output)")
        let status = await worker.wait(timeout: .seconds(40))
        #expect(status == 2, "\(worker.output)")
        #expect(worker.output.contains("does not know a primary named 'hoopoe-primry'") && worker.output.contains("is master=hoopoe-primry in REDIS_URL"), "\(worker.output)")
    }

    @Test func workerSchedulerAndEnqueueFollowAFailoverWithinFiveSeconds() async throws {
        let group = try await SentinelGroup()
        let client = try RedisClient(url: group.url)
        defer { client.close() }
        let jobs = JobQueue(redis: client, namespace: namespace)
        let schedule = FileManager.default.temporaryDirectory.appendingPathComponent("hoopoe-sentinel-\(UUID().uuidString).yaml").path
        try """
            tasks:
              - name: every.second
                cron: "* * * * * *"
                type: diag.incr
                payload: {key: "\(namespace):ticks"}
            """.write(toFile: schedule, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: schedule) }
        let worker = try ChildProcess(BuiltProducts.hoopoe, ["worker", "--queues", "default"], environment: environment(group))
        let scheduler = try ChildProcess(BuiltProducts.hoopoe, ["scheduler", "--schedule", schedule], environment: environment(group))
        #expect(try await eventually { Set(try await jobs.liveProcesses().map(\.kind)).isSuperset(of: ["worker", "scheduler"]) }, "\(worker.output)\(scheduler.output)")
        #expect(try await enqueue(group, key: "\(namespace):done").status == 0)
        #expect(try await eventually { try await client.send("GET", "\(namespace):done").int == 1 }, "\(worker.output)")

        let old = group.nodes[0].port
        let new = try await group.failover()
        let switched = ContinuousClock.now
        let onNew = SentinelGroup.client(port: new)
        let onOld = SentinelGroup.client(port: old)
        defer { onNew.close(); onOld.close() }

        // hoopoe enqueue: a fresh process asks the sentinels, so it lands on the new primary at once.
        #expect(try await enqueue(group, key: "\(namespace):done").status == 0)
        // The worker runs it there, and the scheduler's ticks go on there.
        let ticksAtSwitch = try await onNew.send("GET", "\(namespace):ticks").int ?? 0
        #expect(try await eventually(timeout: .seconds(5)) { try await onNew.send("GET", "\(namespace):done").int == 2 }, "\(worker.output)")
        #expect(try await eventually(timeout: .seconds(5)) { (try await onNew.send("GET", "\(namespace):ticks").int ?? 0) > ticksAtSwitch + 1 }, "\(scheduler.output)")
        #expect(ContinuousClock.now - switched < .seconds(5))

        // The demoted primary still says master (for ~10 s), but nothing writes to it any more.
        #expect(try await group.role(port: old) == "master")
        let before = try await writeCounts(onOld)
        try await Task.sleep(for: .seconds(2))
        let after = try await writeCounts(onOld)
        if try await group.role(port: old) == "master" { #expect(before == after, "something still writes to the demoted primary") }

        worker.signal(SIGTERM)
        scheduler.signal(SIGTERM)
        #expect(await worker.wait(timeout: .seconds(15)) == 0, "\(worker.output)")
        #expect(await scheduler.wait(timeout: .seconds(15)) == 0, "\(scheduler.output)")
        for output in [worker.output, scheduler.output] {
            #expect(output.components(separatedBy: "Redis primary moved from 127.0.0.1:\(old) to 127.0.0.1:\(new) (sentinel)").count == 2, "logged once: \(output)")
        }
    }

    /// The example URL of docs/operating.md's Sentinel section means what the section says: three sentinels, the
    /// master's name, the data nodes' password (never printed).
    @Test func theDocumentedURLNamesThreeSentinelsAndTheMaster() throws {
        let text = try String(contentsOf: BuiltProducts.projectRoot.appendingPathComponent("docs/operating.md"), encoding: .utf8)
        let section = try #require(text.components(separatedBy: "## Sentinel: `redis-sentinel://`").dropFirst().first)
        let line = try #require(section.split(separator: "\n").first { $0.contains("REDIS_URL=redis-sentinel://") })
        let url = String(line.trimmingCharacters(in: .whitespaces).dropFirst("REDIS_URL=".count))
        let configuration = try RedisConfiguration(url: url)
        guard case .sentinel(let settings) = configuration.topology else { Issue.record("not Sentinel: \(url)"); return }
        #expect(settings.sentinels.count == 3)
        #expect(settings.masterName == "hoopoe")
        #expect(configuration.password == "PASSWORD")
        #expect(!configuration.redactedURL.contains("PASSWORD"))
    }

    /// `hoopoe enqueue --help`'s promise: with `REDIS_WAIT_REPLICAS` and no replica to acknowledge, exit 1, a line
    /// that says why, and no job id on a line of its own (stdout's; the `hoopoe:` line names the job: EnqueueUnknownOutcomeTests).
    @Test func aDurableEnqueueNoReplicaAcknowledgedExitsOneWithoutAnID() async throws {
        let server = try RedisServer()
        let process = try ChildProcess(BuiltProducts.hoopoe, ["enqueue", "diag.incr", "--payload", "{\"key\":\"\(namespace):n\"}"], environment: [
            "REDIS_URL": server.url, "HOOPOE_NAMESPACE": namespace, "REDIS_WAIT_REPLICAS": "1", "REDIS_WAIT_TIMEOUT_MS": "100",
        ])
        #expect(await process.wait(timeout: .seconds(20)) == 1, "\(process.output)")
        #expect(process.output.contains("0 of 1 replicas acknowledged"), "\(process.output)")
        #expect(process.output.split(separator: "\n").allSatisfy { $0.hasPrefix("hoopoe:") || $0.contains("warning") }, "no id printed: \(process.output)")
    }

    /// docs/operating.md's retry of a failed durable enqueue, run as written (from the project folder, `hoopoe` on the
    /// PATH) against a primary whose replica is frozen (`SIGSTOP`) during the first attempt: that attempt's `WAIT`
    /// counts 0 of 1, so it fails although its job is queued; the replica then resumes, the next attempt is refused
    /// with exit 3 naming that job, the loop stops, and exactly one job is queued.
    @Test func theDocumentedRetryOfAFailedDurableEnqueueQueuesOneJob() async throws {
        let text = try String(contentsOf: BuiltProducts.projectRoot.appendingPathComponent("docs/operating.md"), encoding: .utf8)
        let section = try #require(text.components(separatedBy: "## Sentinel: `redis-sentinel://`").dropFirst().first)
        let lines = section.split(separator: "\n", omittingEmptySubsequences: false)
        let start = try #require(lines.firstIndex { $0.trimmingCharacters(in: .whitespaces).hasPrefix("for attempt") }, "no retry loop in the Sentinel section")
        let end = try #require(lines[start...].firstIndex { $0.trimmingCharacters(in: .whitespaces) == "done" })
        let loop = lines[start...end].joined(separator: "\n")
        #expect(loop.contains("--unique-key"), "the documented retry uses a unique key: \(loop)")

        let server = try RedisServer()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hoopoe-retry-replica-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let replicaPort = try RedisServer.freePort()
        let replica = try ChildProcess("/usr/bin/env", [
            "redis-server", "--port", String(replicaPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", folder.path,
            "--replicaof", "127.0.0.1", String(server.port),
        ])
        defer { replica.signal(SIGCONT); replica.signal(SIGKILL); replica.waitBlocking() }
        let primary = SentinelGroup.client(port: server.port)
        defer { primary.close() }
        let streaming = try await eventually(timeout: .seconds(15)) {
            (try? await primary.pipeline([RedisCommand("SET", "retry:ready", "1"), RedisCommand("WAIT", "1", "100")]))?.last?.int == 1
        }
        try #require(streaming, "the replica acknowledges writes: \(replica.output)")
        replica.signal(SIGSTOP)

        let bin = URL(fileURLWithPath: BuiltProducts.hoopoe).deletingLastPathComponent().path
        let script = "cd '\(BuiltProducts.projectRoot.path)' || exit 99\n\(loop)\necho \"attempts=$attempt\""
        let process = try ChildProcess("/bin/sh", ["-c", script], environment: [
            "REDIS_URL": server.url, "HOOPOE_NAMESPACE": namespace, "REDIS_WAIT_REPLICAS": "1", "REDIS_WAIT_TIMEOUT_MS": "100",
            "PATH": "\(bin):/usr/local/bin:/usr/bin:/bin",
        ])
        defer { process.signal(SIGKILL) }
        let firstFailed = try await eventually(timeout: .seconds(20)) { process.output.contains("0 of 1 replicas acknowledged") }
        replica.signal(SIGCONT)
        #expect(firstFailed, "the first attempt failed for want of the replica: \(process.output)")
        #expect(await process.wait(timeout: .seconds(60)) == 0, "\(process.output)")
        let output = process.output
        #expect(!output.contains("attempts=1\n") && !output.contains("attempts=5"), "a retry ended the loop: \(output)")
        var queued: [String] = []
        for key in try await primary.send("KEYS", "\(namespace):*:stream").array?.compactMap(\.string) ?? [] {
            for entry in try await primary.send("XRANGE", key, "-", "+").array ?? [] { queued.append(entry.description) }
        }
        #expect(queued.count == 1, "one job queued, not one per attempt: \(queued)")
        let refusal = try #require(output.split(separator: "\n").first { $0.hasPrefix("refused: job ") }, "\(output)")
        let holder = refusal.dropFirst("refused: job ".count).prefix { $0 != " " }
        #expect(queued.first?.contains(String(holder)) == true, "the refusal names the queued job: \(refusal) \(queued)")
    }

    /// `REDIS_WAIT_REPLICAS=1` and loops of `hoopoe enqueue` through a failover: each enqueue either exits 0 and its
    /// job is on the new primary, or fails and says so — none is reported enqueued and lost, and none that exited 2
    /// ("unreachable", nothing written: a caller may send it again) was written.
    @Test func withWaitReplicasNoEnqueueThatReturnedOKIsLost() async throws {
        let group = try await SentinelGroup()
        let wait = ["REDIS_WAIT_REPLICAS": "1", "REDIS_WAIT_TIMEOUT_MS": "300"]
        let stop = ContinuousClock.now + .seconds(3)
        let failingOver = Task {
            try await Task.sleep(for: .milliseconds(700))
            return try await group.failover()
        }
        let outcomes = try await withThrowingTaskGroup(of: [(member: String, status: Int32, output: String)].self) { lanes in
            for lane in 0..<3 {
                lanes.addTask {
                    var results: [(member: String, status: Int32, output: String)] = []
                    var n = 0
                    while ContinuousClock.now < stop {
                        n += 1
                        let member = "\(lane)-\(n)"
                        let (status, output) = try await enqueue(group, key: "\(namespace):seen", member: member, wait)
                        results.append((member, status, output))
                    }
                    return results
                }
            }
            return try await lanes.reduce(into: []) { $0 += $1 }
        }
        let new = try await failingOver.value
        let onNew = SentinelGroup.client(port: new)
        defer { onNew.close() }
        let stream = try await onNew.send("XRANGE", JobQueue(redis: onNew, namespace: namespace).keys("default").stream, "-", "+")
        let kept = (stream.array ?? []).map(\.description).joined(separator: "\n")
        let acknowledged = outcomes.filter { $0.status == 0 }
        let lost = acknowledged.filter { !kept.contains("\"member\":\"\($0.member)\"") }
        let unreachableButWritten = outcomes.filter { $0.status == 2 && kept.contains("\"member\":\"\($0.member)\"") }
        print("hoopoe enqueue with REDIS_WAIT_REPLICAS=1 through a failover: \(outcomes.count) runs, \(acknowledged.count) OK, \(outcomes.count - acknowledged.count) failed, \(lost.count) lost")
        #expect(acknowledged.count >= 5)
        #expect(lost.isEmpty, "enqueues that exited 0 but are not on the new primary: \(lost.map(\.member).prefix(5))")
        #expect(unreachableButWritten.isEmpty, "enqueues that exited 2 but were written: \(unreachableButWritten.map(\.output).prefix(3))")
        print("exit statuses: \(Dictionary(grouping: outcomes, by: \.status).mapValues(\.count))")
        if let failed = outcomes.first(where: { $0.status != 0 }) {
            #expect(failed.output.contains("replicas acknowledged") || failed.output.contains("Redis"), "a failed durable enqueue says why: \(failed.output)")
            print("a failed durable enqueue: \(failed.output)")
        }
    }
}
