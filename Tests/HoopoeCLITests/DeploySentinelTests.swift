import Foundation
import HoopoeCore
import Redis
import TestSupport
import Testing
import Yams

/// `deploy/docker-compose.sentinel.yml`, without Docker: each Redis service's own command and configuration file (the
/// files the compose file mounts, read from `deploy/`) run as real `redis-server` and `redis-sentinel` processes on
/// loopback — host names become 127.0.0.1 and each service gets a port of its own, nothing else changes — and
/// `hoopoe` runs with the compose file's environment (its `REDIS_URL` with the same rewrite) and commands: the worker
/// and scheduler start, their health checks pass, an enqueue runs, and after a `SENTINEL FAILOVER` an enqueue runs on
/// the new primary. What Docker itself adds (images, networks, `depends_on`) is not exercised.
@Suite("deploy/docker-compose.sentinel.yml", .serialized)
struct DeploySentinelTests {
    private let deploy = BuiltProducts.projectRoot.appendingPathComponent("deploy")

    /// The compose file's services, as parsed.
    private func services() throws -> [String: [String: Any]] {
        let text = try String(contentsOf: deploy.appendingPathComponent("docker-compose.sentinel.yml"), encoding: .utf8)
        let compose = try #require(try Yams.load(yaml: text) as? [String: Any])
        let services = try #require(compose["services"] as? [String: Any])
        return services.compactMapValues { $0 as? [String: Any] }
    }

    /// The structure users rely on: three sentinels watching the name the URL asks for, a replica of the primary,
    /// `min-replicas-to-write` on the data nodes, `REDIS_WAIT_REPLICAS` on Hoopoe, a health check everywhere.
    @Test func theExampleIsASentinelDeploymentWithDurableWrites() throws {
        let services = try services()
        #expect(Set(services.keys) == ["redis-primary", "redis-replica", "sentinel-1", "sentinel-2", "sentinel-3", "worker", "scheduler"])
        for (name, service) in services {
            #expect(service["healthcheck"] is [String: Any], "\(name) has a health check")
        }
        let sentinelConf = try mountedFile(services["sentinel-1"], endingIn: "sentinel.conf")
        let monitor = try #require(sentinelConf.split(separator: "\n").first { $0.hasPrefix("sentinel monitor ") }).split(separator: " ")
        #expect(monitor.count == 6 && monitor[3] == "redis-primary" && monitor[5] == "2", "monitors the primary, quorum 2: \(monitor)")
        // operating.md: a few seconds, or a loaded sentinel may fail back to an empty restarted primary.
        let downAfter = sentinelConf.split(separator: "\n").first { $0.hasPrefix("sentinel down-after-milliseconds ") }?.split(separator: " ").last
        #expect((downAfter.flatMap { Int($0) } ?? 30_000) >= 3_000, "down-after-milliseconds \(String(describing: downAfter))")
        for hoopoe in ["worker", "scheduler"] {
            let environment = try composeEnvironment(of: services[hoopoe])
            let url = try #require(environment["REDIS_URL"])
            let configuration = try RedisConfiguration(url: url)
            guard case .sentinel(let settings) = configuration.topology else { Issue.record("\(hoopoe): not a Sentinel URL: \(url)"); continue }
            #expect(settings.sentinels == (1...3).map { .tcp(host: "sentinel-\($0)", port: 26379) }, "\(hoopoe) lists every sentinel")
            #expect(settings.masterName == String(monitor[2]), "\(hoopoe) asks for the name the sentinels monitor")
            #expect(environment["REDIS_WAIT_REPLICAS"] == "1", "\(hoopoe) waits for the replica")
        }
        let replicaCommand = try #require(services["redis-replica"]?["command"] as? [String])
        #expect(replicaCommand.joined(separator: " ").contains("--replicaof redis-primary 6379"))
        for node in ["redis-primary", "redis-replica"] {
            let conf = try mountedFile(services[node], endingIn: "redis.conf")
            #expect(conf.contains("\nmin-replicas-to-write 1\n"), "\(node): min-replicas-to-write (a replica may be promoted)")
            #expect(conf.contains("\nmaxmemory-policy noeviction\n"), "\(node): no eviction of jobs")
        }
    }

    @Test func theServicesRunAsWrittenAndHoopoeFollowsAFailover() async throws {
        let services = try services()
        let loopback = try Loopback(services: services)
        defer { loopback.stop() }
        for name in ["redis-primary", "redis-replica", "sentinel-1", "sentinel-2", "sentinel-3"] {
            try await loopback.start(name, services[name], mounts: try mounts(services[name]))
        }
        let primaryPort = loopback.ports["redis-primary"]!, replicaPort = loopback.ports["redis-replica"]!
        let sentinelPorts = (1...3).map { loopback.ports["sentinel-\($0)"]! }
        #expect(try await eventually(timeout: .seconds(30)) { try await Self.ready(sentinelPorts: sentinelPorts) }, "the sentinels see the replica and each other: \(loopback.logs())")

        // The Redis services' health checks, as written (the port added where the check relies on the default).
        for name in ["redis-primary", "redis-replica", "sentinel-1", "sentinel-2", "sentinel-3"] {
            let test = try #require((services[name]?["healthcheck"] as? [String: Any])?["test"] as? [String])
            var command = Array(test.dropFirst())  // "CMD"
            if let flag = command.firstIndex(of: "-p"), flag + 1 < command.count {
                command[flag + 1] = String(loopback.ports[name]!)
            } else {
                command.insert(contentsOf: ["-p", String(loopback.ports[name]!)], at: 1)
            }
            let check = try ChildProcess("/usr/bin/env", command)
            #expect(await check.wait(timeout: .seconds(10)) == 0, "\(name): \(command.joined(separator: " ")): \(check.output)")
        }

        // Hoopoe with the compose file's environment and commands.
        let namespace = "deploysentinel\(UUID().uuidString.prefix(8))"
        let environment = try hoopoeEnvironment(services["worker"], loopback: loopback, namespace: namespace)
        #expect(environment["REDIS_URL"]?.hasPrefix("redis-sentinel://127.0.0.1:") == true)
        let worker = try ChildProcess(BuiltProducts.hoopoe, try hoopoeCommand(services["worker"]), environment: environment)
        let scheduler = try ChildProcess(BuiltProducts.hoopoe, try hoopoeCommand(services["scheduler"]), environment: try hoopoeEnvironment(services["scheduler"], loopback: loopback, namespace: namespace))
        defer { worker.signal(SIGKILL); scheduler.signal(SIGKILL) }
        let primary = SentinelGroup.client(port: primaryPort)
        defer { primary.close() }
        let jobs = JobQueue(redis: primary, namespace: namespace)
        #expect(try await eventually(timeout: .seconds(15)) { Set(try await jobs.liveProcesses().map(\.kind)).isSuperset(of: ["worker", "scheduler"]) }, "\(worker.output)\(scheduler.output)")
        for name in ["worker", "scheduler"] {
            let test = try #require((services[name]?["healthcheck"] as? [String: Any])?["test"] as? [String])
            #expect(test.dropFirst().first == "/app/bin/hoopoe")
            let check = try ChildProcess(BuiltProducts.hoopoe, Array(test.dropFirst(2)), environment: environment)
            #expect(await check.wait(timeout: .seconds(20)) == 0, "\(name)'s health check: \(check.output)")
        }
        // The deployment check (not in the compose file: an orchestrator's or a person's) with the same URL: healthy,
        // and its topology names the primary the sentinels name.
        let deployment = try ChildProcess(BuiltProducts.hoopoe, ["health-check"], environment: environment)
        #expect(await deployment.wait(timeout: .seconds(30)) == 0, "hoopoe health-check: \(deployment.output)")
        #expect(deployment.output.contains("127.0.0.1:\(primaryPort)"), "hoopoe health-check names the primary: \(deployment.output)")
        let counter = "\(namespace):done"
        #expect(try await enqueue(counter, environment) == 0)
        #expect(try await eventually { try await primary.send("GET", counter).int == 1 }, "\(worker.output)")
        // Durable: with the compose file's REDIS_WAIT_REPLICAS the enqueue and the settle waited for the replica.
        let stats = try await primary.send("INFO", "commandstats").string ?? ""
        #expect(stats.contains("cmdstat_wait:calls="), "hoopoe sent WAIT: \(stats)")
        let replica = SentinelGroup.client(port: replicaPort)
        defer { replica.close() }

        // A failover: the replica is promoted; the demoted primary, once a sentinel converts it, is its replica, and
        // min-replicas-to-write lets the new primary take writes again. Enqueues meanwhile fail (and say so).
        _ = try await SentinelGroup.client(port: sentinelPorts[0]).send("SENTINEL", "FAILOVER", "hoopoe")
        // (The sentinels close clients' connections on a node they reconfigure: a poll may meet a reset.)
        #expect(try await eventually(timeout: .seconds(20)) { (try? await replica.send("ROLE"))?.array?.first?.string == "master" }, "\(loopback.logs())")
        var status: Int32 = -1
        let deadline = ContinuousClock.now + .seconds(40)
        while status != 0 && ContinuousClock.now < deadline {
            status = try await enqueue(counter, environment)
            if status != 0 { try await Task.sleep(for: .milliseconds(500)) }
        }
        #expect(status == 0, "an enqueue succeeds on the new primary once the old one is its replica: \(loopback.logs())")
        #expect(try await eventually(timeout: .seconds(10)) { (try? await replica.send("GET", counter))?.int == 2 }, "the worker followed: \(worker.output)")
        #expect(worker.output.contains("Redis primary moved from 127.0.0.1:\(primaryPort) to 127.0.0.1:\(replicaPort) (sentinel)"), "\(worker.output)")
        worker.signal(SIGTERM)
        scheduler.signal(SIGTERM)
        #expect(await worker.wait(timeout: .seconds(30)) == 0, "\(worker.output)")
        #expect(await scheduler.wait(timeout: .seconds(30)) == 0, "\(scheduler.output)")
    }

    private func enqueue(_ key: String, _ environment: [String: String]) async throws -> Int32 {
        let process = try ChildProcess(BuiltProducts.hoopoe, ["enqueue", "diag.incr", "--payload", "{\"key\":\"\(key)\"}"], environment: environment)
        guard let status = await process.wait(timeout: .seconds(20)) else { throw TestSupportError("hoopoe enqueue hung: \(process.output)") }
        return status
    }

    /// Every sentinel knows the replica as linked and the two other sentinels (so `SENTINEL FAILOVER` can run).
    private static func ready(sentinelPorts: [Int]) async throws -> Bool {
        for port in sentinelPorts {
            let sentinel = SentinelGroup.client(port: port)
            defer { sentinel.close() }
            guard let replicas = try? await sentinel.send("SENTINEL", "REPLICAS", "hoopoe").array,
                let others = try? await sentinel.send("SENTINEL", "SENTINELS", "hoopoe").array
            else { return false }
            let linked = replicas.compactMap(\.array).map(SentinelGroup.fields).filter { $0["master-link-status"] == "ok" }
            if linked.count != 1 || others.count != 2 { return false }
        }
        return true
    }

    /// The service's mounts: container path → the file in `deploy/` (`./x:/container/path[:ro]`; named volumes skipped).
    private func mounts(_ service: [String: Any]?) throws -> [String: URL] {
        var result: [String: URL] = [:]
        for volume in (service?["volumes"] as? [String]) ?? [] {
            let parts = volume.split(separator: ":")
            guard parts.count >= 2, parts[0].hasPrefix("./") else { continue }
            result[String(parts[1])] = deploy.appendingPathComponent(String(parts[0].dropFirst(2)))
        }
        return result
    }

    private func mountedFile(_ service: [String: Any]?, endingIn suffix: String) throws -> String {
        let file = try #require(try mounts(service).first { $0.key.hasSuffix(suffix) }?.value, "a mounted \(suffix)")
        return try String(contentsOf: file, encoding: .utf8)
    }

    /// The compose command of a Hoopoe service, with the container's paths (`/app/jobs`) in the project and the
    /// metrics port on a free one.
    private func hoopoeCommand(_ service: [String: Any]?) throws -> [String] {
        var command = try #require(service?["command"] as? [String])
        command = command.map { $0.replacingOccurrences(of: "/app/jobs/", with: BuiltProducts.projectRoot.appendingPathComponent("jobs").path + "/") }
        if let index = command.firstIndex(of: "--metrics-port"), index + 1 < command.count { command[index + 1] = String(try RedisServer.freePort()) }
        return command
    }

    private func hoopoeEnvironment(_ service: [String: Any]?, loopback: Loopback, namespace: String) throws -> [String: String] {
        var environment = try composeEnvironment(of: service).mapValues { loopback.rewrite($0) }
        environment["HOOPOE_NAMESPACE"] = namespace
        environment["LOG_LEVEL"] = "notice"
        environment["LOG_FORMAT"] = nil  // plain lines, for the assertion on the move
        return environment
    }
}

/// The compose network on loopback: each service's host name is 127.0.0.1 and its port one of its own (the
/// container port comes from the `port` line of its configuration file).
private final class Loopback: @unchecked Sendable {
    let ports: [String: Int]
    private let containerPorts: [String: Int]
    private let directory: URL
    private var processes: [(name: String, process: ChildProcess, folder: URL)] = []

    init(services: [String: [String: Any]]) throws {
        var ports: [String: Int] = [:]
        var containerPorts: [String: Int] = [:]
        for (name, service) in services where (service["image"] as? String)?.hasPrefix("redis") == true {
            ports[name] = try RedisServer.freePort()
            containerPorts[name] = name.hasPrefix("sentinel") ? 26379 : 6379
        }
        self.ports = ports
        self.containerPorts = containerPorts
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("hoopoe-deploy-sentinel-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    /// `host port` and `host:port` of a service → 127.0.0.1 and its port here; a lone host name → 127.0.0.1.
    func rewrite(_ text: String) -> String {
        var text = text
        for (name, port) in ports {
            let inside = containerPorts[name]!
            text = text.replacingOccurrences(of: "\(name) \(inside)", with: "127.0.0.1 \(port)")
                .replacingOccurrences(of: "\(name):\(inside)", with: "127.0.0.1:\(port)")
        }
        for name in ports.keys { text = text.replacingOccurrences(of: name, with: "127.0.0.1") }
        return text
    }

    func rewrite(_ arguments: [String]) -> [String] {
        var result: [String] = []
        var index = 0
        while index < arguments.count {
            // `--replicaof redis-primary 6379`: a host and its port as two arguments.
            if index + 1 < arguments.count, let port = ports[arguments[index]], arguments[index + 1] == String(containerPorts[arguments[index]]!) {
                result += ["127.0.0.1", String(port)]
                index += 2
                continue
            }
            result.append(rewrite(arguments[index]))
            index += 1
        }
        return result
    }

    /// Starts a service's command: its mounted files copied with the loopback rewrite (`port`, `bind`, `dir`, host
    /// names), its container paths pointing at the copies and at a folder of its own for `/data`.
    func start(_ name: String, _ service: [String: Any]?, mounts: [String: URL]) async throws {
        let folder = directory.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var paths: [String: String] = ["/data": folder.path]
        for (inside, file) in mounts {
            var lines: [String] = []
            for line in try String(contentsOf: file, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false) {
                if line.hasPrefix("port ") { lines.append("port \(ports[name]!)") }
                else if line.hasPrefix("bind ") { lines.append("bind 127.0.0.1") }
                else if line.hasPrefix("dir ") { lines.append("dir \(folder.path)") }
                else { lines.append(rewrite(String(line))) }
            }
            let copy = folder.appendingPathComponent("mounted-" + file.lastPathComponent)
            try lines.joined(separator: "\n").write(to: copy, atomically: true, encoding: .utf8)
            paths[inside] = copy.path
        }
        guard var command = service?["command"] as? [String], !command.isEmpty else { throw TestSupportError("\(name) has no command") }
        command = rewrite(command).map { argument in
            // Longest container path first (`/data` is a prefix of nothing else here, but keep it general).
            paths.keys.sorted { $0.count > $1.count }.reduce(argument) { $0.replacingOccurrences(of: $1, with: paths[$1]!) }
        }
        let process = try ChildProcess("/usr/bin/env", command, logPath: folder.appendingPathComponent("output.log").path)
        processes.append((name, process, folder))
        let deadline = Date().addingTimeInterval(10)
        while !(await Self.answers(port: ports[name]!)) {
            if let status = process.poll() { throw TestSupportError("\(name) exited (\(status)): \(process.output)") }
            guard Date() < deadline else { throw TestSupportError("\(name) did not listen on \(ports[name]!): \(process.output)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    private static func answers(port: Int) async -> Bool {
        let client = SentinelGroup.client(port: port)
        defer { client.close() }
        return (try? await client.send("PING")) != nil
    }

    /// The last lines of each service's output (for a failure message).
    func logs() -> String {
        processes.map { "\($0.name): \($0.process.output.split(separator: "\n").suffix(8).joined(separator: "\n"))" }.joined(separator: "\n---\n")
    }

    func stop() {
        for entry in processes {
            entry.process.signal(SIGKILL)
            entry.process.waitBlocking()
        }
        try? FileManager.default.removeItem(at: directory)
    }
}
