/// What a cluster node's error reply asks of the client, when it asks anything.
///
/// - `MOVED slot host:port`: the slot lives elsewhere now; send there and update the map.
/// - `ASK slot host:port`: the slot is being migrated and this key is already on the target; send there once,
///   after `ASKING`, and leave the map alone.
/// - `TRYAGAIN` (a multi-key command during a migration) and `CLUSTERDOWN` (the cluster lost a slot for a moment,
///   e.g. during a failover): nothing ran; send again after a pause.
/// - `NOSCRIPT`: this node has not seen the script; load it there and send again.
enum ClusterRedirection: Equatable {
    case moved(slot: Int, to: RedisConfiguration.Endpoint)
    case ask(slot: Int, to: RedisConfiguration.Endpoint)
    case tryAgain
    case noScript

    /// The redirection in `message`, if any. An address without a host (`:6380`, a node that does not know how it
    /// is reached) means the host of the node that answered, `replier`.
    init?(_ message: String, replier: RedisConfiguration.Endpoint) {
        if message.hasPrefix("TRYAGAIN") || message.hasPrefix("CLUSTERDOWN") {
            self = .tryAgain
            return
        }
        if message.hasPrefix("NOSCRIPT") {
            self = .noScript
            return
        }
        let words = message.split(separator: " ")
        guard words.count >= 3, words[0] == "MOVED" || words[0] == "ASK", let slot = Int(words[1]), (0..<HashSlot.count).contains(slot),
            let colon = words[2].lastIndex(of: ":"), let port = Int(words[2][words[2].index(after: colon)...])
        else { return nil }
        var host = String(words[2][..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host.isEmpty, case .tcp(let replierHost, _) = replier { host = replierHost }
        let target = RedisConfiguration.Endpoint.tcp(host: host, port: port)
        self = words[0] == "MOVED" ? .moved(slot: slot, to: target) : .ask(slot: slot, to: target)
    }
}
