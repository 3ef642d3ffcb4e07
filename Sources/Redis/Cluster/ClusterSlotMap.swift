/// Which primary serves each of the 16384 slots, from `CLUSTER SHARDS` (Redis 7) or `CLUSTER SLOTS` (older).
///
/// A value: the cluster client swaps in a new map after a refresh and patches one slot on a `MOVED`, under its lock.
/// Lookups are an array index (two bytes a slot), cheap enough for every command.
public struct ClusterSlotMap: Sendable, Equatable {
    /// The primaries, in the order first seen.
    public private(set) var primaries: [RedisConfiguration.Endpoint]
    /// Every node the map's reply named, replicas included: after a failover the router asks them for a new map
    /// when the primaries it knew no longer answer (a replica that was promoted, or one that knows who was).
    public private(set) var nodes: [RedisConfiguration.Endpoint] = []
    /// Primaries the reply marked `failed` (a primary killed), for the topology report: those still holding slots no
    /// replica took yet (``slotsHeld(byFailed:)``), and those whose slots failed over, listed until they come back (as
    /// replicas) or are forgotten.
    public private(set) var failedPrimaries: [RedisConfiguration.Endpoint] = []
    /// Slots of each failed primary that no healthy primary serves (its shard had none), by address.
    private var heldByFailed: [RedisConfiguration.Endpoint: Int] = [:]
    /// Index into ``primaries`` for each slot; ``unassigned`` when no primary serves it.
    private var owners: [UInt16]
    private static let unassigned = UInt16.max

    /// An empty map: no slot served.
    public init() {
        primaries = []
        nodes = []
        owners = Array(repeating: Self.unassigned, count: HashSlot.count)
    }

    /// The primary serving `slot`, or nil when none does (a cluster still forming, or a slot lost with its node).
    public func primary(for slot: Int) -> RedisConfiguration.Endpoint? {
        let owner = owners[slot]
        return owner == Self.unassigned ? nil : primaries[Int(owner)]
    }

    /// How many slots have a primary.
    public var coveredSlots: Int { owners.count { $0 != Self.unassigned } }

    /// How many slots the failed primary `failed` still holds, no replica promoted in its place: 0 once its slots
    /// failed over (or for a failed node that held none).
    public func slotsHeld(byFailed failed: RedisConfiguration.Endpoint) -> Int { heldByFailed[failed] ?? 0 }

    /// How many slots `primary` serves.
    public func slotCount(of primary: RedisConfiguration.Endpoint) -> Int {
        guard let index = primaries.firstIndex(of: primary) else { return 0 }
        return owners.count { $0 == UInt16(index) }
    }

    /// Records a node of the cluster (a replica of a refresh's reply) as one to ask for the map.
    public mutating func know(_ endpoint: RedisConfiguration.Endpoint) {
        if !nodes.contains(endpoint) { nodes.append(endpoint) }
    }

    /// Records that `slots` are served by `endpoint` (a `MOVED` reply, or one range of a refresh).
    public mutating func assign(_ slots: ClosedRange<Int>, to endpoint: RedisConfiguration.Endpoint) {
        // A range from the network may lie outside 0…16383: what of it is inside is kept, nothing else (an empty
        // clamp would be a range whose bounds cross, which traps).
        let low = max(0, slots.lowerBound), high = min(HashSlot.count - 1, slots.upperBound)
        guard low <= high else { return }
        know(endpoint)
        let index: Int
        if let known = primaries.firstIndex(of: endpoint) {
            index = known
        } else {
            primaries.append(endpoint)
            index = primaries.count - 1
        }
        for slot in low...high { owners[slot] = UInt16(index) }
    }

    /// The map in a `CLUSTER SHARDS` reply: per shard a map (a flat array in RESP2) with `slots` (start, end pairs)
    /// and `nodes`, each with `ip`, `endpoint`, `port`, `role` and `health`. The primary is the node whose role is
    /// `master` and whose health is not `failed` (after a `kill` the dead primary stays listed, failed, beside the
    /// replica promoted in its place). An address the node does not know (`?`, empty) is `fallbackHost`, the host
    /// the reply came from. Every other healthy node is remembered in ``nodes``. With `tls`, a node's `tls-port` is
    /// taken before its `port`: a node serving both (`tls-cluster yes` beside a plaintext port, as while a cluster
    /// moves to TLS) lists both, and `port` is the plaintext one, where a TLS handshake only times out.
    public static func parse(shards reply: RedisReply, fallbackHost: String, tls: Bool = false) -> ClusterSlotMap? {
        guard let shards = reply.array else { return nil }
        var map = ClusterSlotMap()
        for shard in shards {
            let fields = Self.fields(shard)
            guard let slots = fields["slots"]?.array, let nodes = fields["nodes"]?.array else { continue }
            let described = nodes.map(Self.fields)
            let isFailed = { (node: [String: RedisReply]) in ["fail", "failed"].contains(node["health"]?.string ?? "") }
            let healthy = described.filter { !isFailed($0) }
            for node in healthy {
                if let address = endpoint(of: node, fallbackHost: fallbackHost, tls: tls) { map.know(address) }
            }
            let primary = healthy.first { $0["role"]?.string == "master" }
            for node in described where node["role"]?.string == "master" && isFailed(node) {
                guard let address = endpoint(of: node, fallbackHost: fallbackHost, tls: tls) else { continue }
                if !map.failedPrimaries.contains(address) { map.failedPrimaries.append(address) }
                if primary == nil { map.heldByFailed[address, default: 0] += Self.slotCount(slots) }
            }
            guard let primary, let address = endpoint(of: primary, fallbackHost: fallbackHost, tls: tls) else { continue }
            for pair in stride(from: 0, to: slots.count - 1, by: 2) {
                guard let low = slots[pair].int, let high = slots[pair + 1].int, low <= high else { continue }
                map.assign(low...high, to: address)
            }
        }
        return map
    }

    /// How many slots a shard's `slots` (start, end pairs) spans.
    private static func slotCount(_ slots: [RedisReply]) -> Int {
        stride(from: 0, to: slots.count - 1, by: 2).reduce(0) { total, pair in
            guard let low = slots[pair].int.map({ max(0, $0) }), let high = slots[pair + 1].int.map({ min(HashSlot.count - 1, $0) }), low <= high else { return total }
            return total + high - low + 1
        }
    }

    /// A `CLUSTER SHARDS` node's address: its `endpoint` or `ip` (else `fallbackHost`) and, for `tls`, its `tls-port`
    /// (else `port`), otherwise its `port` (else `tls-port`).
    private static func endpoint(of node: [String: RedisReply], fallbackHost: String, tls: Bool) -> RedisConfiguration.Endpoint? {
        let plain = node["port"]?.int
        let secure = node["tls-port"]?.int
        guard let port = tls ? secure ?? plain : plain ?? secure else { return nil }
        let host = [node["endpoint"]?.string, node["ip"]?.string].compactMap { $0 }.first { !$0.isEmpty && $0 != "?" } ?? fallbackHost
        return .tcp(host: host, port: port)
    }

    /// The map in a `CLUSTER SLOTS` reply: `[[start, end, [host, port, id, ...], replica...], ...]`.
    public static func parse(slots reply: RedisReply, fallbackHost: String) -> ClusterSlotMap? {
        guard let ranges = reply.array else { return nil }
        var map = ClusterSlotMap()
        for range in ranges {
            guard let parts = range.array, parts.count >= 3, let low = parts[0].int, let high = parts[1].int, low <= high,
                let node = parts[2].array, node.count >= 2, let port = node[1].int
            else { continue }
            let host = node[0].string.flatMap { $0.isEmpty || $0 == "?" ? nil : $0 } ?? fallbackHost
            map.assign(low...high, to: .tcp(host: host, port: port))
            for replica in parts.dropFirst(3) {
                guard let fields = replica.array, fields.count >= 2, let replicaPort = fields[1].int else { continue }
                map.know(.tcp(host: fields[0].string.flatMap { $0.isEmpty || $0 == "?" ? nil : $0 } ?? fallbackHost, port: replicaPort))
            }
        }
        return map
    }

    /// A RESP2 map (`[key, value, key, value]`) or RESP3 map as a dictionary by key.
    private static func fields(_ reply: RedisReply) -> [String: RedisReply] {
        guard let items = reply.array else { return [:] }
        var result: [String: RedisReply] = [:]
        for index in stride(from: 0, to: items.count - 1, by: 2) {
            if let key = items[index].string { result[key] = items[index + 1] }
        }
        return result
    }
}
