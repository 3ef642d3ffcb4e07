import Foundation
import Redis
import Synchronization

/// A real Sentinel deployment on loopback for one test: a primary, its replicas (one unless asked) and three `redis-sentinel`
/// processes watching them, each with its own ports and folder.
///
/// Tuned to fail over quickly: `SENTINEL FAILOVER` in about a second, a `kill -9` of the primary in about four
/// (`down-after-milliseconds` 3000, `failover-timeout` 2000). Not less: right after a switch a sentinel's fresh
/// link to the promoted primary must answer within that time, and at 400 ms, and on a loaded machine at 1000 ms, the
/// sentinels took the freshly promoted primary for down and really failed back to the restarted, empty old one
/// (epoch 2, seen in their logs: `+sdown master` one second after `+switch-master`). The sentinels
/// are told about each other and the replicas in their configuration files (`known-sentinel`, `known-replica`),
/// so the group is ready as soon as the processes answer, instead of after the two seconds of hello messages
/// discovery takes; a `kill -9` of the primary then has its quorum (2) at once.
public final class SentinelGroup: Sendable {
    /// The name the sentinels monitor the primary under (the URL's `master=`).
    public let masterName = "hoopoe-primary"
    /// The data nodes: the first primary, then its replicas; which one is the primary changes with a failover (see
    /// ``primaryPort()``).
    public let nodes: [RedisServer]
    /// The sentinels' ports.
    public let sentinelPorts: [Int]
    private let sentinels: Mutex<[ChildProcess]>
    private let directory: URL
    /// Set for a group that speaks only TLS, data nodes and sentinels alike.
    public let tls: TLSCertificates?

    /// The `redis-sentinel://` URL of this group, as users write it (`db` 0).
    public var url: String {
        "redis-sentinel://" + sentinelPorts.map { "127.0.0.1:\($0)" }.joined(separator: ",") + "/0?master=\(masterName)"
            + (tls.map { "&tls=true&ca=\($0.caFile)" } ?? "")
    }

    /// Starts the primary (`nodes[0]`), its replicas (`nodes[1...]`) and three sentinels, and waits until every
    /// sentinel sees the replicas in sync and they acknowledge a write (`WAIT`).
    /// - Parameters:
    ///   - replicas: how many (1; 2 so that a durable write has a replica right after a failover, the other one
    ///     being reattached to the new primary, while the demoted one waits ~10 s to be converted).
    ///   - nodeArguments: extra `redis-server` options for the data nodes (e.g. `--appendonly yes`).
    ///   - tls: serve TLS only, on every data node and sentinel (replication and the sentinels' links to the data
    ///     nodes too), with these certificates; ``url`` then asks for TLS with their CA.
    public init(replicas: Int = 1, nodeArguments: [String] = [], tls: TLSCertificates? = nil) async throws {
        self.tls = tls
        guard let binary = ["/usr/bin/redis-sentinel", "/usr/local/bin/redis-sentinel"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw TestSupportError("redis-sentinel is not installed: run scripts/install-deps.sh (it installs redis-sentinel), or apt-get install -y redis-sentinel")
        }
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("hoopoe-sentinel-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        // No 5 s wait before a full sync (diskless sync's default delay gathers replicas; there is one).
        let arguments = ["--repl-diskless-sync-delay", "0"] + (tls == nil ? [] : ["--tls-replication", "yes"]) + nodeArguments
        let primary = try RedisServer(arguments: arguments, tls: tls)
        let replicaNodes = try (0..<max(1, replicas)).map { _ in
            try RedisServer(arguments: arguments + ["--replicaof", "127.0.0.1", String(primary.port)], tls: tls)
        }
        nodes = [primary] + replicaNodes
        let ports = try (0..<3).map { _ in try RedisServer.freePort() }
        sentinelPorts = ports
        let ids = ports.map { _ in (0..<40).map { _ in String("0123456789abcdef".randomElement()!) }.joined() }
        var started: [ChildProcess] = []
        for (index, port) in ports.enumerated() {
            let folder = directory.appendingPathComponent("sentinel-\(port)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let listen = tls.map {
                ["port 0", "tls-port \(port)", "tls-cert-file \($0.serverCertificate)", "tls-key-file \($0.serverKey)",
                 "tls-ca-cert-file \($0.caFile)", "tls-auth-clients no", "tls-replication yes"]
            } ?? ["port \(port)"]
            var lines = listen + [
                "bind 127.0.0.1", "daemonize no", "dir \(folder.path)", "logfile \(folder.path)/sentinel.log",
                "sentinel myid \(ids[index])",
                "sentinel monitor \(masterName) 127.0.0.1 \(primary.port) 2",
                "sentinel down-after-milliseconds \(masterName) 3000",
                "sentinel failover-timeout \(masterName) 2000",
            ]
            for replica in replicaNodes { lines.append("sentinel known-replica \(masterName) 127.0.0.1 \(replica.port)") }
            for (other, otherPort) in ports.enumerated() where other != index {
                lines.append("sentinel known-sentinel \(masterName) 127.0.0.1 \(otherPort) \(ids[other])")
            }
            let config = folder.appendingPathComponent("sentinel.conf")
            try (lines.joined(separator: "\n") + "\n").write(to: config, atomically: true, encoding: .utf8)
            started.append(try ChildProcess(binary, [config.path], logPath: "/dev/null"))
        }
        sentinels = Mutex(started)
        try await waitUntilReady()
    }

    deinit {
        stopSentinels()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Kills every sentinel (SIGKILL) and waits for them: a sentinel outage, the data nodes untouched.
    public func stopSentinels() {
        sentinels.withLock { processes in
            for process in processes {
                process.signal(SIGKILL)
                process.waitBlocking()
            }
        }
    }

    /// Kills sentinel number `index` (0–2; SIGKILL) and waits for it.
    public func stopSentinel(_ index: Int) {
        sentinels.withLock { processes in
            processes[index].signal(SIGKILL)
            processes[index].waitBlocking()
        }
    }

    /// Sends every sentinel `signal`: SIGSTOP hangs them (they accept connections and answer nothing, as a sentinel
    /// on a stalled host does), SIGCONT resumes them.
    public func signalSentinels(_ signal: Int32) {
        sentinels.withLock { processes in
            for process in processes { process.signal(signal) }
        }
    }

    /// Asks sentinel number `index` (0–2) one command.
    public func sentinel(_ index: Int, _ name: String, _ arguments: String...) async throws -> RedisReply {
        let client = connect(port: sentinelPorts[index])
        defer { client.close() }
        return try await client.send(RedisCommand(name, arguments))
    }

    /// The highest configuration epoch any sentinel has for the primary: 0 before any failover, one more with each.
    public func configEpoch() async throws -> Int {
        var highest = 0
        for index in sentinelPorts.indices {
            guard let reply = try? await sentinel(index, "SENTINEL", "MASTER", masterName), let items = reply.array else { continue }
            highest = max(highest, Int(Self.fields(items)["config-epoch"] ?? "") ?? 0)
        }
        return highest
    }

    /// The port of the node the sentinels name as primary now.
    public func primaryPort() async throws -> Int {
        for index in sentinelPorts.indices {
            if let reply = try? await sentinel(index, "SENTINEL", "get-master-addr-by-name", masterName), let parts = reply.array, parts.count == 2,
                let port = parts[1].string.flatMap(Int.init)
            {
                return port
            }
        }
        throw TestSupportError("no sentinel answered get-master-addr-by-name")
    }

    /// The data node on `port`.
    public func node(port: Int) -> RedisServer? { nodes.first { $0.port == port } }

    /// Runs `SENTINEL FAILOVER` and waits until the sentinels name the other node and it says it is `master`.
    /// Returns the new primary's port. The old primary stays `master` until a sentinel converts it (about ten
    /// seconds later): the window in which a client that does not follow keeps writing to it.
    @discardableResult
    public func failover(timeout: Duration = .seconds(15)) async throws -> Int {
        let before = try await primaryPort()
        _ = try await sentinel(0, "SENTINEL", "FAILOVER", masterName)
        return try await waitForSwitch(from: before, timeout: timeout)
    }

    /// Waits until the sentinels name a primary other than `old` and that node answers `ROLE` with `master`.
    public func waitForSwitch(from old: Int, timeout: Duration = .seconds(15)) async throws -> Int {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let port = try? await primaryPort(), port != old, try await role(port: port) == "master" { return port }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestSupportError("the sentinels did not move the primary off \(old) within \(timeout)")
    }

    /// The `ROLE` of the node on `port` (`master`, `slave`), or nil when it does not answer.
    public func role(port: Int) async throws -> String? {
        let client = connect(port: port)
        defer { client.close() }
        return try? await client.send("ROLE").array?.first?.string
    }

    /// A client on one node or sentinel of this group, over TLS when the group speaks it.
    public func connect(port: Int) -> RedisClient {
        guard let tls else { return Self.client(port: port) }
        return RedisClient(
            configuration: RedisConfiguration(
                endpoint: .tcp(host: "127.0.0.1", port: port), tls: RedisTLS(caFile: tls.caFile), connectTimeout: .seconds(1), commandTimeout: .seconds(2),
                reconnectWindow: .milliseconds(300)))
    }

    /// A plain client on one node, whatever its role (for assertions on that node).
    public static func client(port: Int) -> RedisClient {
        RedisClient(
            configuration: RedisConfiguration(
                endpoint: .tcp(host: "127.0.0.1", port: port), connectTimeout: .seconds(1), commandTimeout: .seconds(2), reconnectWindow: .milliseconds(300)))
    }

    /// Waits until every sentinel answers and sees each replica linked to the primary, and the replicas acknowledge
    /// a write (the first `WAIT` after a sync can otherwise time out).
    private func waitUntilReady() async throws {
        let deadline = ContinuousClock.now + .seconds(15)
        let replicas = nodes.count - 1
        let primary = connect(port: nodes[0].port)
        defer { primary.close() }
        while ContinuousClock.now < deadline {
            var ready = 0
            for index in sentinelPorts.indices {
                guard let reply = try? await sentinel(index, "SENTINEL", "replicas", masterName), let list = reply.array else { continue }
                let linked = list.compactMap(\.array).map(Self.fields).filter { $0["flags"] == "slave" && $0["master-link-status"] == "ok" }
                if linked.count == replicas { ready += 1 }
            }
            if ready == sentinelPorts.count,
                let acknowledged = try? await primary.pipeline([RedisCommand("SET", "sentinel-group:ready", "1"), RedisCommand("WAIT", String(replicas), "200")]).last?.int,
                acknowledged == replicas
            {
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestSupportError("the sentinels did not see the replicas in sync within 15 s (logs in \(directory.path))")
    }

    /// A flat `[name, value, ...]` reply as a dictionary.
    public static func fields(_ items: [RedisReply]) -> [String: String] {
        var result: [String: String] = [:]
        for index in stride(from: 0, to: items.count - 1, by: 2) {
            if let name = items[index].string { result[name] = items[index + 1].string ?? "" }
        }
        return result
    }
}
