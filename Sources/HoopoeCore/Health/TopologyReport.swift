import HoopoeJSON
import Redis

/// What Redis Hoopoe talks to, node by node: for `hoopoe health-check` (its `topology` check and the `topology`
/// part of its output) and `hoopoe queues`. One server: its address, role and replicas. Sentinel: the primary the
/// sentinels name and its replicas. Cluster: every primary with its slots, whether it answered, and its replicas.
///
/// Addresses only (`host:port`), never a URL: a URL may carry a password.
public struct TopologyReport: Sendable, Hashable {
    /// How Hoopoe reaches Redis.
    public enum Kind: String, Sendable, Hashable {
        case standalone, sentinel, cluster
    }

    /// A replica as its primary's `INFO replication` lists it.
    public struct Replica: Sendable, Hashable {
        /// `host:port`.
        public let address: String
        /// `online` once the initial sync is done (`wait_bgsave`, `send_bulk` before).
        public let state: String
        /// Seconds since the replica last acknowledged (`lag`).
        public let lagSeconds: Int?
        /// Bytes of the primary's replication stream the replica has not acknowledged.
        public let bytesBehind: Int?

        /// The most lag a replica may have and count as in sync: `min-replicas-max-lag`'s usual 10 s.
        public static let maxLagSeconds = 10

        /// Online and acknowledged within ``maxLagSeconds``: a replica a failover could promote without losing
        /// more than that, and one `WAIT` counts.
        public var inSync: Bool { state == "online" && (lagSeconds ?? 0) <= Self.maxLagSeconds }
    }

    /// A primary (the one server, the one the sentinels name, or a cluster primary).
    public struct Primary: Sendable, Hashable {
        /// `host:port`.
        public let address: String
        /// Whether it answered `INFO replication`.
        public let reachable: Bool
        /// Its `role` (`master`; `slave` for a server that is a replica), nil when it did not answer.
        public let role: String?
        /// Slots it serves (cluster only).
        public let slots: Int?
        /// Its replicas, as it lists them.
        public let replicas: [Replica]
        /// Why it was not read (unreachable, `INFO` refused), one line, no credentials.
        public let problem: String?

        public init(address: String, reachable: Bool, role: String?, slots: Int?, replicas: [Replica], problem: String?) {
            self.address = address
            self.reachable = reachable
            self.role = role
            self.slots = slots
            self.replicas = replicas
            self.problem = problem
        }

        /// Replicas in sync.
        public var replicasInSync: Int { replicas.count { $0.inSync } }
    }

    public let kind: Kind
    /// The primaries: one for a server or Sentinel, every primary of a cluster (and any the cluster marks failed).
    public let primaries: [Primary]
    /// Cluster slots without a primary (a primary failed and none promoted yet); 0 otherwise.
    public let unservedSlots: Int
    /// Sentinel only: the primary's name (`master=`).
    public let masterName: String?
    /// The replicas each durable write waits for (``RedisConfiguration/waitReplicas``: `REDIS_WAIT_REPLICAS` or
    /// `wait_replicas=`); 0 when writes wait for none.
    public let requiredReplicas: Int
    /// Sentinel only: what the sentinels said.
    public let sentinels: SentinelView?
    /// Cluster only: failed primaries whose slots a replica took (`host:port`): they serve nothing, and the cluster
    /// lists them until they come back (as replicas) or are forgotten (`CLUSTER FORGET`).
    public let failedNodes: [String]

    public init(
        kind: Kind, primaries: [Primary], unservedSlots: Int = 0, masterName: String? = nil, requiredReplicas: Int = 0, sentinels: SentinelView? = nil,
        failedNodes: [String] = []
    ) {
        self.kind = kind
        self.primaries = primaries
        self.unservedSlots = unservedSlots
        self.masterName = masterName
        self.requiredReplicas = requiredReplicas
        self.sentinels = sentinels
        self.failedNodes = failedNodes
    }

    /// The `topology` check: fail when a primary does not answer (naming it), when cluster slots have no primary,
    /// when the one server is a replica (every write would be refused), when a primary has fewer replicas in sync
    /// than ``requiredReplicas`` (every enqueue and settle fails as not replicated, while the workers look alive), or
    /// when the sentinels say they could not fail the primary over (`SENTINEL CKQUORUM`: the primary's next failure
    /// would not be failed over); warn
    /// when a replica is out of sync, `INFO` was refused, a sentinel did not answer, named another primary or is
    /// failing over, or a cluster lists a failed node whose slots failed over (``failedNodes``: the failover worked,
    /// but that shard has one copy fewer until the node returns); else ok, with one line per primary.
    public var finding: HealthFinding {
        var numbers: [String: Double] = [
            "primaries": Double(primaries.count), "reachable_primaries": Double(primaries.count { $0.reachable }),
            "replicas_in_sync": Double(primaries.reduce(0) { $0 + $1.replicasInSync }), "unserved_slots": Double(unservedSlots),
        ]
        if requiredReplicas > 0 { numbers["required_replicas"] = Double(requiredReplicas) }
        if let sentinels { numbers["sentinels_answering"] = Double(sentinels.answered) }
        var failures: [String] = []
        var warnings: [String] = []
        for primary in primaries {
            if !primary.reachable {
                failures.append("\(kind == .cluster ? "cluster primary" : "primary") \(primary.address) unreachable: \(primary.problem ?? "no answer")")
            } else if let problem = primary.problem {
                warnings.append("\(primary.address): \(problem)")
            } else if let role = primary.role, role != "master" {
                failures.append("\(primary.address) is a replica (role \(role)): Redis refuses every write there; point REDIS_URL at the primary")
            } else if primary.replicasInSync < requiredReplicas {
                failures.append(
                    "\(primary.address) has \(primary.replicasInSync) replica\(primary.replicasInSync == 1 ? "" : "s") in sync and REDIS_WAIT_REPLICAS "
                        + "(or wait_replicas=) asks for \(requiredReplicas): every enqueue and settle fails as not replicated")
            }
            for replica in primary.replicas where !replica.inSync {
                warnings.append("replica \(replica.address) of \(primary.address) is not in sync (\(replica.state), lag \(replica.lagSeconds.map { "\($0) s" } ?? "?"))")
            }
        }
        if unservedSlots > 0 { failures.append("\(unservedSlots) slots have no primary: commands for them fail until a replica is promoted") }
        for node in failedNodes {
            warnings.append("failed node \(node), its slots failed over: it rejoins as a replica when it comes back (CLUSTER FORGET it on every node if it never does)")
        }
        if let sentinels {
            if let noQuorum = sentinels.noQuorum {
                failures.append("the sentinels cannot fail the primary over now (if it fails, nothing replaces it): \(noQuorum)")
            }
            warnings += sentinels.problems.map { "sentinel \($0)" }
        }
        if !failures.isEmpty {
            return HealthFinding(name: "topology", status: .fail, message: (failures + warnings).joined(separator: "; "), numbers: numbers)
        }
        if !warnings.isEmpty {
            return HealthFinding(name: "topology", status: .warn, message: warnings.joined(separator: "; "), numbers: numbers)
        }
        return HealthFinding(name: "topology", status: .ok, message: summary, numbers: numbers)
    }

    /// One line: `standalone 127.0.0.1:6379 (master), 1 replica in sync`, `cluster: 3 primaries, 16384 slots, ...`.
    public var summary: String {
        switch kind {
        case .standalone, .sentinel:
            guard let primary = primaries.first else { return kind.rawValue }
            let named = kind == .sentinel ? "sentinel: primary \(masterName.map { "'\($0)' " } ?? "")at \(primary.address)" : "standalone \(primary.address)"
            return "\(named) (\(primary.role ?? "?")), \(Self.replicas(primary))"
        case .cluster:
            let reachable = primaries.count { $0.reachable }
            let inSync = primaries.reduce(0) { $0 + $1.replicasInSync }
            let failed = failedNodes.isEmpty ? "" : ", failed node\(failedNodes.count == 1 ? "" : "s") \(failedNodes.joined(separator: ", ")) (slots failed over)"
            return "cluster: \(reachable) of \(primaries.count) primaries reachable, \(primaries.reduce(0) { $0 + ($1.slots ?? 0) }) slots served, "
                + "\(inSync) replica\(inSync == 1 ? "" : "s") in sync" + failed
        }
    }

    /// `1 replica in sync (lag 0 s)`, `2 replicas, 1 in sync`, `no replicas`.
    static func replicas(_ primary: Primary) -> String {
        let count = primary.replicas.count, inSync = primary.replicasInSync
        if count == 0 { return "no replicas" }
        let lag = primary.replicas.compactMap(\.lagSeconds).max().map { " (lag \($0) s)" } ?? ""
        if inSync == count { return "\(count) replica\(count == 1 ? "" : "s") in sync\(lag)" }
        return "\(count) replica\(count == 1 ? "" : "s"), \(inSync) in sync\(lag)"
    }

    /// The documented JSON shape: `{"kind", "unserved_slots", "master_name"?, "primaries": [{"address",
    /// "reachable", "role", "slots"?, "problem"?, "replicas": [{"address", "state", "in_sync", "lag_seconds",
    /// "bytes_behind"}]}], "failed_nodes"?: ["host:port"]}` (``failedNodes``, when a cluster lists any).
    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "kind": .string(kind.rawValue), "unserved_slots": .integer(Int64(unservedSlots)),
            "primaries": .array(primaries.map { primary in
                var fields: [String: JSONValue] = [
                    "address": .string(primary.address), "reachable": .bool(primary.reachable), "role": primary.role.map { .string($0) } ?? .null,
                    "replicas": .array(primary.replicas.map { replica in
                        .object([
                            "address": .string(replica.address), "state": .string(replica.state), "in_sync": .bool(replica.inSync),
                            "lag_seconds": replica.lagSeconds.map { .integer(Int64($0)) } ?? .null,
                            "bytes_behind": replica.bytesBehind.map { .integer(Int64($0)) } ?? .null,
                        ])
                    }),
                ]
                if let slots = primary.slots { fields["slots"] = .integer(Int64(slots)) }
                if let problem = primary.problem { fields["problem"] = .string(problem) }
                return .object(fields)
            }),
        ]
        if let masterName { object["master_name"] = .string(masterName) }
        if !failedNodes.isEmpty { object["failed_nodes"] = .array(failedNodes.map { .string($0) }) }
        return .object(object)
    }
}
