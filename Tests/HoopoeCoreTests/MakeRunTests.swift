import Foundation
import HoopoeCore
import Redis
import TestSupport
import Testing

/// `make run`'s script from a fresh folder: it starts a local Redis, a worker and the scheduler; a job
/// enqueued with `hoopoe enqueue` from another process runs; Ctrl-C stops everything it started, letting a running
/// job finish, and exits 0.
/// (The script is run with the debug binary: `make run` itself only adds the release build.)
@Suite struct MakeRunTests {
    @Test func runStartsEverythingProcessesAnEnqueuedJobAndStopsOnCtrlC() async throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("hoopoe-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: data) }
        let port = try RedisServer.freePort()
        let run = try await Self.startRun([
            "REDIS_URL": "", "HOOPOE_BIN": BuiltProducts.hoopoe, "HOOPOE_DATA_DIR": data.path, "LOCAL_REDIS_PORT": String(port),
            "SMS_QUIET_HOURS": "off",  // the SMS below must go out whatever the hour in Tehran
        ].merging(try Self.portsOfItsOwn()) { $1 })
        defer { run.signal(SIGKILL) }
        let output = run.output
        #expect(output.contains("Ctrl-C stops everything"), "\(output)")
        guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix("[hoopoe] REDIS_URL=") }) else {
            Issue.record("no REDIS_URL printed: \(output)")
            return
        }
        let url = String(line.dropFirst("[hoopoe] REDIS_URL=".count))
        #expect(output.contains("worker.log") && output.contains("scheduler.log"), "says where the logs go")
        #expect(output.contains("using the local fake providers"), "no provider keys in the environment: the fakes stand in")
        #expect(output.contains("[hoopoe] dashboard: http://127.0.0.1:"), "prints the dashboard's URL: \(output)")
        // The worker's /metrics, at the URL printed: Prometheus text with the queue gauges.
        let metricsURL = output.split(separator: "\n").first { $0.hasPrefix("[hoopoe] metrics: http://127.0.0.1:") }.map { String($0.split(separator: " ")[2]) }
        #expect(metricsURL?.hasSuffix("/metrics") == true, "prints the metrics URL: \(output)")
        if let metricsURL {
            var text = ""
            for _ in 0..<50 where !text.contains("# TYPE hoopoe_queue_depth gauge") {
                let scrape = try ChildProcess("/usr/bin/env", ["python3", "-c", "import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())", metricsURL])
                _ = await scrape.wait(timeout: .seconds(10))
                text = scrape.output
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(text.contains("# HELP hoopoe_queue_depth ") && text.contains("hoopoe_queue_paused{queue=\"default\"} 0"), "\(text)")
        }

        // "From another shell":
        let enqueue = try ChildProcess(BuiltProducts.hoopoe, ["enqueue", "diag.record", "--payload", #"{"key":"hello","member":"world"}"#], environment: ["REDIS_URL": url])
        #expect(await enqueue.wait(timeout: .seconds(10)) == 0, "\(enqueue.output)")
        let redis = try RedisClient(url: url)
        defer { redis.close() }
        let jobs = JobQueue(redis: redis)
        var ran = false
        for _ in 0..<200 where !ran {
            ran = (try? await redis.send("SISMEMBER", "hello", "world").int) == 1
            if !ran { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(ran, "the enqueued job ran; worker log: \((try? String(contentsOf: data.appendingPathComponent(".hoopoe/logs/worker.log"), encoding: .utf8)) ?? "")")
        // A domain job end to end through the local fake providers: an SMS is sent and reported on the events stream.
        let sms = try ChildProcess(BuiltProducts.hoopoe, ["enqueue", "sms.send", "--payload",
            #"{"message_id":"make-run-1","phone":"09121234567","template":"low_credit","tokens":{"token10":"Maryam","token":"120","token2":"500"}}"#],
            environment: ["REDIS_URL": url])
        #expect(await sms.wait(timeout: .seconds(10)) == 0, "\(sms.output)")
        var sent = false
        for _ in 0..<200 where !sent {
            let events = try await redis.send("XRANGE", "hoopoe:events", "-", "+").array ?? []
            sent = events.contains { ($0.array?.last?.array ?? []).compactMap(\.string).contains("sms.sent") }
            if !sent { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(sent, "sms.sent through the fakes; worker log: \((try? String(contentsOf: data.appendingPathComponent(".hoopoe/logs/worker.log"), encoding: .utf8)) ?? "")")
        let kinds = Set(try await jobs.liveProcesses().map(\.kind))
        #expect(kinds == ["worker", "scheduler"])

        // Ctrl-C while a job runs: the worker drains it (one signal, not SIGINT and then SIGTERM) and the script exits 0.
        let slow = try ChildProcess(BuiltProducts.hoopoe, ["enqueue", "diag.record", "--payload", #"{"key":"slow","member":"done","sleep_ms":3000}"#],
                                    environment: ["REDIS_URL": url])
        #expect(await slow.wait(timeout: .seconds(10)) == 0, "\(slow.output)")
        var started = false
        for _ in 0..<200 where !started {
            started = (try? await jobs.info(queue: "default").inFlight) == 1
            if !started { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(started, "the slow job is running")
        kill(-run.pid, SIGINT)  // the terminal's Ctrl-C: every process of the foreground group
        #expect(await run.wait(timeout: .seconds(40)) == 0, "Ctrl-C stops the script, exit 0: \(run.output)")
        let slowID = slow.output.split(separator: "\n").last.map(String.init) ?? "?"
        let workerLog = (try? String(contentsOf: data.appendingPathComponent(".hoopoe/logs/worker.log"), encoding: .utf8)) ?? ""
        let slowLines = workerLog.split(separator: "\n").filter { $0.contains(slowID) }
        #expect(slowLines.contains { $0.contains("job done") }, "the running job finished instead of being interrupted: \(workerLog)")
        #expect(workerLog.components(separatedBy: "graceful shutdown").count == 2, "one signal reached the worker: \(workerLog)")
        #expect(run.output.contains("local Redis stopped"), "\(run.output)")
        var short = try RedisConfiguration(url: url)
        short.reconnectWindow = .milliseconds(100)
        let probe = RedisClient(configuration: short)
        defer { probe.close() }
        await #expect(throws: RedisError.self) { try await probe.send("PING") }
        #expect(FileManager.default.fileExists(atPath: data.appendingPathComponent(".redis-data/appendonlydir").path), "AOF on")
    }

    /// `make run` with a REDIS_URL of the user's own: it is used, and printed without its password (README: passwords
    /// never appear in logs or output).
    @Test(arguments: ["redis://:pw-s3cret-123@127.0.0.1:PORT/0", "redis://pw-s3cret-123@127.0.0.1:PORT/0"])
    func aGivenRedisURLIsUsedAndItsPasswordNeverPrinted(_ form: String) async throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("hoopoe-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: data) }
        let server = try RedisServer(arguments: ["--requirepass", "pw-s3cret-123"])
        defer { server.stop() }
        let url = form.replacingOccurrences(of: "PORT", with: String(server.port))  // with a user's colon, and without (as redis-cli reads it)
        let run = try await Self.startRun(["REDIS_URL": url, "HOOPOE_BIN": BuiltProducts.hoopoe, "HOOPOE_DATA_DIR": data.path].merging(try Self.portsOfItsOwn()) { $1 })
        defer { run.signal(SIGKILL) }
        let output = run.output
        #expect(output.contains("Ctrl-C stops everything"), "\(output)")
        #expect(output.contains("[hoopoe] REDIS_URL=redis://:***@127.0.0.1:\(server.port)/0"), "\(output)")
        #expect(!output.contains("pw-s3cret-123"), "\(output)")
        let redis = try RedisClient(url: url)
        defer { redis.close() }
        #expect(try await eventually { try await JobQueue(redis: redis).liveProcesses().contains { $0.kind == "worker" } }, "the worker runs on the given Redis")
        kill(-run.pid, SIGINT)
        #expect(await run.wait(timeout: .seconds(40)) == 0, "\(run.output)")
        #expect(!run.output.contains("pw-s3cret-123"), "\(run.output)")
    }

    /// `LOCAL_REDIS_PORT` held by a program that is not Redis (a bare TCP listener that never answers): the script
    /// starts its Redis on another, free port, as README promises, and a job runs there — it used to probe the port
    /// with `redis-cli ping` only, so redis-server could not bind, and the script waited 20 s and exited 1.
    @Test func aPortHeldByAProgramThatIsNotRedisMovesTheLocalRedisToAFreePort() async throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("hoopoe-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: data) }
        // The listener takes a port of its own (no race for a free one) and prints it once it listens; it never accepts.
        let listener = try ChildProcess("/usr/bin/env", ["python3", "-c", """
            import socket, time
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            s.listen()
            print(s.getsockname()[1], flush=True)
            time.sleep(600)
            """])
        defer { listener.signal(SIGKILL) }
        var held: Int?
        for _ in 0..<400 where held == nil {
            held = Int(listener.output.trimmingCharacters(in: .whitespacesAndNewlines))
            if held == nil { try await Task.sleep(for: .milliseconds(25)) }
        }
        guard let held else {
            Issue.record("the listener did not start: \(listener.output)")
            return
        }
        let run = try await Self.startRun([
            "REDIS_URL": "", "HOOPOE_BIN": BuiltProducts.hoopoe, "HOOPOE_DATA_DIR": data.path, "LOCAL_REDIS_PORT": String(held),
        ].merging(try Self.portsOfItsOwn()) { $1 })
        defer { run.signal(SIGKILL) }
        let output = run.output
        #expect(output.contains("Ctrl-C stops everything"), "the script runs: \(output)")
        #expect(output.contains("[hoopoe] port \(held) is taken"), "\(output)")
        guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix("[hoopoe] REDIS_URL=") }) else {
            Issue.record("no REDIS_URL printed: \(output)")
            return
        }
        let url = String(line.dropFirst("[hoopoe] REDIS_URL=".count))
        #expect(url.hasPrefix("redis://127.0.0.1:") && !url.hasPrefix("redis://127.0.0.1:\(held)/"), "another port than the held \(held): \(url)")
        #expect(output.contains("[hoopoe] local Redis on 127.0.0.1:") && !output.contains("[hoopoe] local Redis on 127.0.0.1:\(held) "), "\(output)")
        let enqueue = try ChildProcess(BuiltProducts.hoopoe, ["enqueue", "diag.record", "--payload", #"{"key":"hello","member":"world"}"#], environment: ["REDIS_URL": url])
        #expect(await enqueue.wait(timeout: .seconds(10)) == 0, "\(enqueue.output)")
        let redis = try RedisClient(url: url)
        defer { redis.close() }
        #expect(try await eventually { (try? await redis.send("SISMEMBER", "hello", "world").int) == 1 },
                "the enqueued job ran; worker log: \((try? String(contentsOf: data.appendingPathComponent(".hoopoe/logs/worker.log"), encoding: .utf8)) ?? "")")
        kill(-run.pid, SIGINT)
        #expect(await run.wait(timeout: .seconds(40)) == 0, "Ctrl-C stops the script, exit 0: \(run.output)")
        #expect(run.output.contains("local Redis stopped"), "\(run.output)")
        #expect(listener.poll() == nil, "the listener still holds its port: the script left it alone")
    }

    /// Free metrics and dashboard ports for one run: this suite's runs go in parallel, and two that both saw 9464 free
    /// raced for it (the loser's worker exited: "a process exited").
    static func portsOfItsOwn() throws -> [String: String] {
        ["HOOPOE_METRICS_PORT": String(try RedisServer.freePort()), "HOOPOE_DASHBOARD_PORT": String(try RedisServer.freePort())]
    }

    /// scripts/run.sh started in a session of its own, as under a terminal (Ctrl-C is a SIGINT to the whole foreground
    /// process group), once it says it runs (or after 20 s, or when it exits); in `directory` when given (`env -C`,
    /// which execs: the pid is still the script's).
    static func startRun(_ environment: [String: String], in directory: String? = nil) async throws -> ChildProcess {
        let script = BuiltProducts.projectRoot.appendingPathComponent("scripts/run.sh").path
        let run = try directory.map { try ChildProcess("/usr/bin/env", ["-C", $0, "/usr/bin/setsid", "/bin/bash", script], environment: environment) }
            ?? ChildProcess("/usr/bin/setsid", ["/bin/bash", script], environment: environment)
        let deadline = ContinuousClock.now + .seconds(20)
        while !run.output.contains("Ctrl-C stops everything"), ContinuousClock.now < deadline, run.poll() == nil {
            try await Task.sleep(for: .milliseconds(50))
        }
        return run
    }
}
