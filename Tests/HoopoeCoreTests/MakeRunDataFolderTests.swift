import Foundation
import HoopoeCore
import Redis
import TestSupport
import Testing

/// `make run` and its data folder (HOOPOE_DATA_DIR): one run per folder, a Redis left by a killed run, a relative
/// folder; and the order Ctrl-C stops things in. In `MakeRunTests` (an extension of it), so they run in the Makefile's
/// one-at-a-time phase with the other `make run` tests.
extension MakeRunTests {
    /// A second `make run` on the same folder started a second redis-server on the same AOF (on another port, the first
    /// one's being taken): two servers appending to the same files. It now exits 1 at once, naming the first run.
    @Test func aSecondRunOnTheSameDataFolderRefusesAndNamesTheFirst() async throws {
        let data = try Self.dataFolder()
        defer { try? FileManager.default.removeItem(at: data) }
        let redisPort = try RedisServer.freePort()
        let first = try await Self.startRun(on: data, redisPort: redisPort)
        defer { first.signal(SIGKILL) }
        #expect(first.output.contains("Ctrl-C stops everything"), "\(first.output)")
        let firstRedis = Self.redisServers(using: data)
        #expect(firstRedis.count == 1, "the first run's Redis: \(firstRedis)")

        let second = try await Self.startRun(on: data, redisPort: redisPort)
        defer { second.signal(SIGKILL) }
        let status = await second.wait(timeout: .seconds(20))
        #expect(status != nil && status != 0, "the second run exits non-zero: \(second.output)")
        #expect(second.output.contains("another make run (pid \(first.pid)) is using \(data.path)"), "\(second.output)")
        #expect(!second.output.contains("local Redis on"), "no second Redis: \(second.output)")
        #expect(Self.redisServers(using: data) == firstRedis, "one redis-server on the folder, the first run's")
        #expect(first.poll() == nil, "the first run goes on")

        await Self.stop(second)
        kill(-first.pid, SIGINT)
        #expect(await first.wait(timeout: .seconds(40)) == 0, "\(first.output)")
        Self.killRedisServers(using: data)
    }

    /// A run killed (SIGKILL, a closed session) leaves its daemonized Redis running on the folder. The next run does not
    /// start another beside it: it exits 1 naming that redis-server's pid and how to stop it. Once it is gone (killed,
    /// its pid file left naming a dead process) a run starts again.
    @Test func aRedisLeftByAKilledRunIsNamedNotJoined() async throws {
        let data = try Self.dataFolder()
        defer { try? FileManager.default.removeItem(at: data) }
        let redisPort = try RedisServer.freePort()
        let killed = try await Self.startRun(on: data, redisPort: redisPort)
        defer { killed.signal(SIGKILL) }
        #expect(killed.output.contains("Ctrl-C stops everything"), "\(killed.output)")
        let left = try #require(Int32((try? String(contentsOf: data.appendingPathComponent(".redis-data/redis.pid"), encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""), "its Redis's pid file")
        let children = Self.children(of: killed.pid)
        killed.signal(SIGKILL)
        _ = await killed.wait(timeout: .seconds(10))
        for child in children { kill(child, SIGKILL) }  // the worker, scheduler, fakes and dashboard: killed too
        #expect(Self.redisServers(using: data) == [left], "its Redis is left running")

        let next = try await Self.startRun(on: data, redisPort: redisPort)
        defer { next.signal(SIGKILL) }
        let status = await next.wait(timeout: .seconds(20))
        #expect(status != nil && status != 0, "the next run exits non-zero: \(next.output)")
        #expect(next.output.contains("a redis-server (pid \(left)") && next.output.contains("kill \(left)"), "\(next.output)")
        #expect(!next.output.contains("local Redis on"), "no second Redis: \(next.output)")
        #expect(Self.redisServers(using: data) == [left], "one redis-server on the folder, the one left")
        await Self.stop(next)

        kill(left, SIGKILL)
        #expect(try await eventually { Self.redisServers(using: data).isEmpty }, "the left Redis is gone")
        let again = try await Self.startRun(on: data, redisPort: redisPort)
        defer { again.signal(SIGKILL) }
        #expect(again.output.contains("Ctrl-C stops everything"), "a stale pid file does not stop a run: \(again.output)")
        kill(-again.pid, SIGINT)
        #expect(await again.wait(timeout: .seconds(40)) == 0, "\(again.output)")
        Self.killRedisServers(using: data)
    }

    /// A relative HOOPOE_DATA_DIR, taken from the folder the script is started in: redis-server changed into its
    /// `--dir` before opening its `--logfile`, relative too, and failed to start (`make run` exited 1).
    @Test func aRelativeDataFolderStarts() async throws {
        let parent = FileManager.default.temporaryDirectory.resolvingSymlinksInPath()
        let name = "hoopoe-run-\(UUID().uuidString)"
        let data = parent.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        defer {
            try? FileManager.default.removeItem(at: data)
            try? FileManager.default.removeItem(at: BuiltProducts.projectRoot.appendingPathComponent(name))  // where the old script put it
        }
        let run = try await Self.startRun([
            "REDIS_URL": "", "HOOPOE_BIN": BuiltProducts.hoopoe, "HOOPOE_DATA_DIR": name, "LOCAL_REDIS_PORT": String(try RedisServer.freePort()),
        ].merging(try Self.portsOfItsOwn()) { $1 }, in: parent.path)
        defer { run.signal(SIGKILL) }
        let output = run.output
        #expect(output.contains("Ctrl-C stops everything"), "\(output)")
        #expect(output.contains("data in \(data.path)/.redis-data"), "the folder, made absolute: \(output)")
        #expect(FileManager.default.fileExists(atPath: data.appendingPathComponent(".redis-data/appendonlydir").path), "the AOF is in that folder")
        #expect(FileManager.default.fileExists(atPath: data.appendingPathComponent(".hoopoe/logs/worker.log").path), "and the logs")
        await Self.stop(run)
        #expect(run.poll() == 0, "\(run.output)")
        Self.killRedisServers(using: data)
    }

    /// Ctrl-C: the worker and the scheduler get their SIGTERM first; the fake providers and the dashboard only once
    /// they are gone. All at once, the fakes stopped while a job the worker was letting finish could still call them
    /// (connection refused), though README says the worker "lets running jobs finish".
    @Test func theFakeProvidersAndTheDashboardAnswerWhileTheWorkerDrains() async throws {
        let data = try Self.dataFolder()
        defer { try? FileManager.default.removeItem(at: data) }
        let run = try await Self.startRun([
            "REDIS_URL": "", "HOOPOE_BIN": BuiltProducts.hoopoe, "HOOPOE_DATA_DIR": data.path, "LOCAL_REDIS_PORT": String(try RedisServer.freePort()),
        ].merging(try Self.portsOfItsOwn()) { $1 })
        defer { run.signal(SIGKILL) }
        let output = run.output
        let lines = output.split(separator: "\n").map(String.init)
        let url = try #require(lines.first { $0.hasPrefix("[hoopoe] REDIS_URL=") }.map { String($0.dropFirst("[hoopoe] REDIS_URL=".count)) }, "\(output)")
        // "[hoopoe] no provider keys set: using the local fake providers (http://127.0.0.1:PORT/kavenegar/v1 …); …"
        let fakes = try #require(lines.first { $0.contains("using the local fake providers (") }
            .flatMap { $0.split(separator: "(").dropFirst().first?.split(separator: " ").first.map(String.init) }, "\(output)")
        let dashboard = try #require(lines.first { $0.hasPrefix("[hoopoe] dashboard: ") }.map { String($0.split(separator: " ")[2]) }, "\(output)")
        #expect(try await Self.answers(fakes), "the fake providers answer while the run runs: \(fakes)")
        #expect(try await Self.answers(dashboard), "and the dashboard: \(dashboard)")

        let slow = try ChildProcess(BuiltProducts.hoopoe, ["enqueue", "diag.record", "--payload", #"{"key":"slow","member":"done","sleep_ms":6000}"#],
                                    environment: ["REDIS_URL": url])
        #expect(await slow.wait(timeout: .seconds(10)) == 0, "\(slow.output)")
        let redis = try RedisClient(url: url)
        defer { redis.close() }
        #expect(try await eventually { (try? await JobQueue(redis: redis).info(queue: "default").inFlight) == 1 }, "the slow job is running")
        kill(-run.pid, SIGINT)
        try await Task.sleep(for: .milliseconds(1500))
        #expect(run.poll() == nil, "the worker is still letting its job finish: \(run.output)")
        #expect(try await Self.answers(fakes), "the fake providers still answer while the worker drains")
        #expect(try await Self.answers(dashboard), "and the dashboard")
        #expect(await run.wait(timeout: .seconds(40)) == 0, "\(run.output)")
        let workerLog = (try? String(contentsOf: data.appendingPathComponent(".hoopoe/logs/worker.log"), encoding: .utf8)) ?? ""
        let slowID = slow.output.split(separator: "\n").last.map(String.init) ?? "?"
        #expect(workerLog.split(separator: "\n").contains { $0.contains(slowID) && $0.contains("job done") }, "the job finished: \(workerLog)")
        let fakesAfter = try await Self.answers(fakes), dashboardAfter = try await Self.answers(dashboard)
        #expect(!fakesAfter && !dashboardAfter, "the fakes and the dashboard are stopped once the worker is gone")
        Self.killRedisServers(using: data)
    }

    // MARK: - Helpers

    /// `make run` on `data` with its local Redis on `redisPort` (one port for every run of a test, as a user's
    /// `LOCAL_REDIS_PORT`) and ports of its own for the rest.
    static func startRun(on data: URL, redisPort: Int) async throws -> ChildProcess {
        try await startRun(
            ["REDIS_URL": "", "HOOPOE_BIN": BuiltProducts.hoopoe, "HOOPOE_DATA_DIR": data.path, "LOCAL_REDIS_PORT": String(redisPort)]
                .merging(try portsOfItsOwn()) { $1 })
    }

    static func dataFolder() throws -> URL {
        let data = FileManager.default.temporaryDirectory.resolvingSymlinksInPath().appendingPathComponent("hoopoe-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        return data
    }

    /// Ctrl-C to a run still going (one the test expected to have exited), and a wait for it to stop.
    static func stop(_ run: ChildProcess) async {
        guard run.poll() == nil else { return }
        kill(-run.pid, SIGINT)
        _ = await run.wait(timeout: .seconds(40))
    }

    /// The live redis-servers (zombies left out) whose working folder is `data`'s `.redis-data` (redis-server changes
    /// into its `--dir`).
    static func redisServers(using data: URL) -> [Int32] {
        let folder = data.appendingPathComponent(".redis-data").resolvingSymlinksInPath().path
        return processes().filter { pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  stat.contains("(redis-server)"),
                  let state = stat.split(separator: ")").last?.split(separator: " ").first, state != "Z" else { return false }
            return (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/cwd")) == folder
        }
    }

    /// The safety net after each test (a script that did not stop its Redis): SIGKILL to each, by its pid.
    static func killRedisServers(using data: URL) {
        for pid in redisServers(using: data) { kill(pid, SIGKILL) }
    }

    /// The processes whose parent is `parent`.
    static func children(of parent: Int32) -> [Int32] {
        processes().filter { pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let fields = stat.split(separator: ")").last?.split(separator: " "), fields.count > 1 else { return false }
            return Int32(fields[1]) == parent
        }
    }

    static func processes() -> [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { Int32($0) }
    }

    /// Whether an HTTP server answers at `url` (any status: a 404 is an answer; a refused connection is not).
    static func answers(_ url: String) async throws -> Bool {
        let probe = try ChildProcess("/usr/bin/env", ["python3", "-c", """
            import sys, urllib.error, urllib.request
            try:
                urllib.request.urlopen(sys.argv[1], timeout=5).read()
            except urllib.error.HTTPError:
                pass
            except Exception as error:
                print(error)
                sys.exit(1)
            """, url])
        return await probe.wait(timeout: .seconds(15)) == 0
    }
}
