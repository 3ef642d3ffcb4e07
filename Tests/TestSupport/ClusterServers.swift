import Foundation
import Redis
import Synchronization

/// A real Redis Cluster on loopback: three primaries (`redis-server --cluster-enabled yes`, each with an explicit
/// cluster-bus port), joined by `redis-cli --cluster create`, slots 0–16383 split in three; optionally with one
/// replica per primary (`--cluster-replicas 1`) for failover tests.
///
/// The three-primary cluster is started once per test process (``shared()``) and shared by every cluster test,
/// like ``TestRedis``'s server: tests isolate by key prefix, never by FLUSHALL. A test that migrates a slot moves it
/// back (or uses a hash tag of its own), so the others' keys stay where the map says. A failover test starts a
/// cluster with replicas of its own (``init(replicas:nodeTimeout:)``): a failover changes who is primary.
public final class ClusterServers: Sendable {
    /// Every node, primaries first, in the order `redis-cli` gave them slots (0–5460, 5461–10922, 10923–16383);
    /// then the replicas, if any (after a failover the roles differ: ask ``primaryIndex(ofShard:)``).
    public let nodes: [RedisServer]
    /// How many of ``nodes`` were created as primaries (3).
    public let primaryCount = 3

    /// The seed list of a `redis-cluster://` URL (the first three nodes).
    public var seeds: String { nodes.prefix(primaryCount).map { "127.0.0.1:\($0.port)" }.joined(separator: ",") }
    /// The `redis-cluster://` URL of this cluster.
    public var url: String { "redis-cluster://\(seeds)" }
    /// The nodes' endpoints.
    public var endpoints: [RedisConfiguration.Endpoint] { nodes.map { .tcp(host: "127.0.0.1", port: $0.port) } }

    private static let started = Mutex<Result<ClusterServers, TestSupportError>?>(nil)

    /// The process's cluster, started on first use (about a second).
    public static func shared() throws -> ClusterServers {
        try started.withLock { started in
            if started == nil {
                do {
                    started = .success(try ClusterServers())
                    // A static is never deinitialised: stop the servers when the test process exits.
                    atexit { ClusterServers.stopShared() }
                } catch {
                    started = .failure(error as? TestSupportError ?? TestSupportError("\(error)"))
                }
            }
            return try started!.get()
        }
    }

    /// Stops the shared cluster's servers and removes their folders (at exit: their deinit never runs, and each test
    /// process left three folders behind).
    private static func stopShared() {
        guard case .success(let servers)? = started.withLock({ $0 }) else { return }
        for node in servers.nodes {
            node.stop()
            try? FileManager.default.removeItem(at: node.directory)
        }
    }

    /// One cluster-enabled server. Its bus port is explicit (the default, port + 10000, overflows for a kernel-chosen
    /// port above 55535) and free when asked for, but, like the client port, it can be taken before the server binds
    /// it (another test's outgoing connection): a server that exits at once is tried again with another bus port (the
    /// server itself already retries its client port).
    private static func node(nodeTimeout: Int) throws -> RedisServer {
        var attempt = 0
        while true {
            let bus = try RedisServer.freePort()
            do {
                return try RedisServer(arguments: [
                    "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-port", String(bus),
                    "--cluster-node-timeout", String(nodeTimeout), "--cluster-require-full-coverage", "no",
                ])
            } catch is RedisServer.ExitedEarly where attempt < 2 {
                attempt += 1
            }
        }
    }

    /// Starts three cluster-enabled servers (and `replicas` more per primary) and creates the cluster.
    /// - Parameters:
    ///   - replicas: replicas per primary (`--cluster-replicas`).
    ///   - nodeTimeout: `cluster-node-timeout` in ms: how long a primary may be unreachable before its replica is
    ///     promoted (a failover takes about this plus a second).
    public init(replicas: Int = 0, nodeTimeout: Int = 2000) throws {
        var nodes: [RedisServer] = []
        for _ in 0..<(3 * (1 + replicas)) {
            nodes.append(try Self.node(nodeTimeout: nodeTimeout))
        }
        self.nodes = nodes
        let create = try ChildProcess(
            Self.redisCLI,
            ["--cluster", "create"] + nodes.map { "127.0.0.1:\($0.port)" } + ["--cluster-replicas", String(replicas), "--cluster-yes"],
            logPath: nodes[0].directory.appendingPathComponent("create.log").path)
        create.waitBlocking()
        let status = create.poll() ?? -1
        guard status == 0 else {
            let log = (try? String(contentsOf: nodes[0].directory.appendingPathComponent("create.log"), encoding: .utf8)) ?? ""
            throw TestSupportError("redis-cli --cluster create failed (\(status)): \(log.suffix(800))")
        }
        try waitUntilConsistent()
    }

    /// Waits until every running node says `cluster_state:ok` and sees three healthy primaries and every other
    /// running node (the gossip after `create` or a failover), every replica's link to its primary is up and every
    /// primary calls its replicas `online` (their full sync done).
    public func waitUntilConsistent(timeout: TimeInterval = 15) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let running = nodes.filter(isRunning)
            let ready = running.allSatisfy { node in
                let info = Self.cli(port: node.port, ["CLUSTER", "INFO"])
                let lines = Self.cli(port: node.port, ["CLUSTER", "NODES"]).split(separator: "\n").filter { !$0.contains("fail") }
                let replication = Self.cli(port: node.port, ["INFO", "replication"])
                // A primary's replicas count once it calls them `online` (not `wait_bgsave`/`send_bulk`: the link is
                // up before the full sync ends, and a topology check then rightly says "not in sync").
                // And a primary lists every replica the cluster gives it. (`INFO` ends its lines with "\r\n", one
                // Character in Swift: split on "\n", it was one line, no replica was ever found, and every primary
                // read as all online; make test once saw `wait_bgsave` right after this returned.)
                let replicaLines = replication.split(whereSeparator: \.isNewline).filter { $0.hasPrefix("slave") && $0.contains("ip=") }
                let myID = lines.first { $0.contains("myself") }?.split(separator: " ").first
                let expected = lines.count { line in
                    let fields = line.split(separator: " ")
                    return fields.count > 3 && fields[2].contains("slave") && fields[3] == myID
                }
                let linked = replication.contains("role:master")
                    ? replicaLines.count == expected && replicaLines.allSatisfy { $0.contains("state=online") }
                    : replication.contains("master_link_status:up")
                return info.contains("cluster_state:ok") && lines.count(where: { $0.contains("master") }) == primaryCount
                    && lines.count == running.count && linked
            }
            if ready { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw TestSupportError("the cluster on \(seeds) did not become consistent within \(timeout) s")
    }

    /// Whether `node` answers PING (`redis-cli` prints why it could not connect in its place).
    private func isRunning(_ node: RedisServer) -> Bool {
        Self.cli(port: node.port, ["PING"]).contains("PONG")
    }

    /// `CLUSTER NODES` of the first node that answers.
    private func clusterNodes() -> String {
        for node in nodes {
            let lines = Self.cli(port: node.port, ["CLUSTER", "NODES"])
            if lines.contains("myself") { return lines }
        }
        return ""
    }

    /// The node (index into ``nodes``) that is primary of the shard first given the slots of primary `shard` now
    /// (after a failover, its former replica).
    public func primaryIndex(ofShard shard: Int) throws -> Int {
        try owner(ofSlot: [0, 5461, 10923][shard])
    }

    /// The replica (index into ``nodes``) of the primary `primary` (an index into ``nodes``), asked of the cluster.
    public func replicaIndex(of primary: Int) throws -> Int {
        let id = nodeID(primary)
        for line in clusterNodes().split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count >= 4, fields[2].contains("slave"), fields[3] == id else { continue }
            let address = fields[1].split(separator: "@")[0]
            if let index = nodes.firstIndex(where: { "127.0.0.1:\($0.port)" == address }) { return index }
        }
        throw TestSupportError("node \(primary) has no replica")
    }

    /// `CLUSTER FAILOVER` on node `replica`: it catches up with its primary, takes its slots and the primary becomes
    /// its replica. Returns when the cluster agrees.
    public func failover(to replica: Int, timeout: TimeInterval = 15) throws {
        let answer = Self.cli(port: nodes[replica].port, ["CLUSTER", "FAILOVER"])
        guard answer.contains("OK") else { throw TestSupportError("CLUSTER FAILOVER on node \(replica): \(answer)") }
        try waitUntilPrimary(replica, timeout: timeout)
    }

    /// Waits until node `index` serves slots as a primary in every running node's view, and the cluster is ok.
    public func waitUntilPrimary(_ index: Int, timeout: TimeInterval = 15) throws {
        let deadline = Date().addingTimeInterval(timeout)
        let address = "127.0.0.1:\(nodes[index].port)"
        while Date() < deadline {
            let agreed = nodes.filter(isRunning).allSatisfy { node in
                let lines = Self.cli(port: node.port, ["CLUSTER", "NODES"])
                return lines.split(separator: "\n").contains { line in
                    let fields = line.split(separator: " ")
                    return fields.count >= 9 && fields[1].hasPrefix(address + "@") && fields[2].contains("master") && !fields[2].contains("fail")
                }
            }
            if agreed, Self.cli(port: nodes[index].port, ["CLUSTER", "INFO"]).contains("cluster_state:ok") { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw TestSupportError("node \(index) did not become a primary within \(timeout) s")
    }

    /// The node (index into ``nodes``) that serves `slot`, asked of the first node that answers.
    public func owner(ofSlot slot: Int) throws -> Int {
        for line in clusterNodes().split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count >= 9, fields[2].contains("master"), !fields[2].contains("fail") else { continue }
            let address = fields[1].split(separator: "@")[0]
            for range in fields[8...] where !range.hasPrefix("[") {
                let bounds = range.split(separator: "-").compactMap { Int($0) }
                let low = bounds[0], high = bounds.count > 1 ? bounds[1] : bounds[0]
                if (low...high).contains(slot), let index = nodes.firstIndex(where: { "127.0.0.1:\($0.port)" == address }) { return index }
            }
        }
        throw TestSupportError("no node serves slot \(slot)")
    }

    /// A hash tag no other test uses whose slot node `index` serves now (`<prefix>-<random>`).
    public func tag(onNode index: Int, prefix: String = "t") throws -> String {
        for _ in 0..<200 {
            let tag = "\(prefix)-\(UUID().uuidString.prefix(8))"
            if try owner(ofSlot: HashSlot.of(tag)) == index { return tag }
        }
        throw TestSupportError("no tag found on node \(index)")
    }

    /// The node id (`CLUSTER MYID`) of node `index`.
    public func nodeID(_ index: Int) -> String {
        Self.cli(port: nodes[index].port, ["CLUSTER", "MYID"]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Starts moving `slot` from node `source` to node `target` (`CLUSTER SETSLOT ... IMPORTING` on the target,
    /// `MIGRATING` on the source): from now on a key of the slot not on the source is answered `ASK`.
    public func beginMigration(slot: Int, from source: Int, to target: Int) {
        Self.cli(port: nodes[target].port, ["CLUSTER", "SETSLOT", String(slot), "IMPORTING", nodeID(source)])
        Self.cli(port: nodes[source].port, ["CLUSTER", "SETSLOT", String(slot), "MIGRATING", nodeID(target)])
    }

    /// `MIGRATE`s up to `count` keys of `slot` from `source` to `target`; returns how many it moved.
    @discardableResult
    public func moveKeys(slot: Int, from source: Int, to target: Int, count: Int = 1000) -> Int {
        let keys = Self.cli(port: nodes[source].port, ["CLUSTER", "GETKEYSINSLOT", String(slot), String(count)])
            .split(separator: "\n").map(String.init).filter { !$0.isEmpty }
        if keys.isEmpty { return 0 }
        Self.cli(port: nodes[source].port, ["MIGRATE", "127.0.0.1", String(nodes[target].port), "", "0", "5000", "KEYS"] + keys)
        return keys.count
    }

    /// Ends a migration: the slot belongs to `target`, told to every node (`CLUSTER SETSLOT ... NODE`), the
    /// target first as the specification asks.
    public func finishMigration(slot: Int, from source: Int, to target: Int) {
        let id = nodeID(target)
        for index in [target, source] + nodes.indices.filter({ $0 != target && $0 != source }) {
            Self.cli(port: nodes[index].port, ["CLUSTER", "SETSLOT", String(slot), "NODE", id])
        }
    }

    /// Moves `slot` and all its keys from `source` to `target`.
    public func migrate(slot: Int, from source: Int, to target: Int) {
        beginMigration(slot: slot, from: source, to: target)
        while moveKeys(slot: slot, from: source, to: target) > 0 {}
        finishMigration(slot: slot, from: source, to: target)
    }

    /// Runs `redis-cli -p port args...` and returns what it printed (empty when it failed).
    @discardableResult
    public static func cli(port: Int, _ arguments: [String]) -> String {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("hoopoe-cli-\(UUID().uuidString).out")
        defer { try? FileManager.default.removeItem(at: output) }
        guard let process = try? ChildProcess(redisCLI, ["-p", String(port)] + arguments, logPath: output.path) else { return "" }
        process.waitBlocking()
        return (try? String(contentsOf: output, encoding: .utf8)) ?? ""
    }

    private static var redisCLI: String {
        ["/usr/bin/redis-cli", "/usr/local/bin/redis-cli"].first { FileManager.default.isExecutableFile(atPath: $0) } ?? "redis-cli"
    }
}
