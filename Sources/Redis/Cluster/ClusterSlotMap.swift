/// Which primary serves each of the 16384 slots, from `CLUSTER SHARDS` (Redis 7) or `CLUSTER SLOTS` (older).
///
/// A value: the cluster client swaps in a new map after a refresh and patches one slot on a `MOVED`, under its lock.
/// Lookups are an array index (two bytes a slot), cheap enough for every command.
public struct ClusterSlotMap: Sendable, Equatable {
    /// The primaries, in the order first seen.
    public private(set) var primaries: [RedisConfiguration.Endpoint]
    /// Index into ``primaries`` for each slot; ``unassigned`` when no primary serves it.
    private var owners: [UInt16]
    private static let unassigned = UInt16.max

    /// An empty map: no slot served.
    public init() {
        primaries = []
        owners = Array(repeating: Self.unassigned, count: HashSlot.count)
    }

    /// The primary serving `slot`, or nil when none does (a cluster still forming, or a slot lost with its node).
    public func primary(for slot: Int) -> RedisConfiguration.Endpoint? {
        let owner = owners[slot]
        return owner == Self.unassigned ? nil : primaries[Int(owner)]
    }

    /// How many slots have a primary.
    public var coveredSlots: Int { owners.count { $0 != Self.unassigned } }

    /// Records that `slots` are served by `endpoint` (a `MOVED` reply, or one range of a refresh).
    public mutating func assign(_ slots: ClosedRange<Int>, to endpoint: RedisConfiguration.Endpoint) {
        // A range from the network may lie outside 0…16383: what of it is inside is kept, nothing else (an empty
        // clamp would be a range whose bounds cross, which traps).
        let low = max(0, slots.lowerBound), high = min(HashSlot.count - 1, slots.upperBound)
        guard low <= high else { return }
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
    /// `master`. An address the node does not know (`?`, empty) is `fallbackHost`, the host the reply came from.
    public static func parse(shards reply: RedisReply, fallbackHost: String) -> ClusterSlotMap? {
        guard let shards = reply.array else { return nil }
        var map = ClusterSlotMap()
        for shard in shards {
            let fields = Self.fields(shard)
            guard let slots = fields["slots"]?.array, let nodes = fields["nodes"]?.array else { continue }
            let primary = nodes.lazy.map(Self.fields).first { $0["role"]?.string == "master" && $0["health"]?.string != "fail" }
            guard let primary, let port = primary["port"]?.int ?? primary["tls-port"]?.int else { continue }
            let host = [primary["endpoint"]?.string, primary["ip"]?.string].compactMap { $0 }.first { !$0.isEmpty && $0 != "?" } ?? fallbackHost
            for pair in stride(from: 0, to: slots.count - 1, by: 2) {
                guard let low = slots[pair].int, let high = slots[pair + 1].int, low <= high else { continue }
                map.assign(low...high, to: .tcp(host: host, port: port))
            }
        }
        return map
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
