/// Redis Cluster for ``RedisClient`` (`redis-cluster://h1:p1,h2:p2`): every call is routed by ``RedisCluster`` to the
/// primary that serves its keys' slot. `RedisClient.swift` only asks `if let cluster` at its one round trip, so one
/// server pays a nil check and nothing else.
extension RedisClient {
    /// The cluster router for a `.cluster(seeds:)` topology, else nil.
    static func makeCluster(_ configuration: RedisConfiguration) -> RedisCluster? {
        guard case .cluster(let seeds) = configuration.topology else { return nil }
        return RedisCluster(configuration: configuration, seeds: seeds)
    }

    /// True when this client talks to a Redis Cluster: callers that must do something per node or per slot (the
    /// fetch reads each queue on its own, the function library is loaded on every primary) ask this.
    public var isCluster: Bool { cluster != nil }

    /// The round trip of a cluster: a `MULTI` block goes whole to its slot's node; anything else is split per node.
    /// A `durable` call sends each node's share with ``RedisConfiguration/waitReplicas``'s `WAIT` in the same request
    /// (``RedisCluster/WaitAfter``), and returns each node's answer, covering the commands that node ran, for the caller
    /// to judge once it has read their replies (``judge(_:wrote:)``: a node that counted fewer is named). Also says
    /// which node answered the last command: a script's error names the node that ran it, not the first seed.
    func clusterExchange(_ commands: [RedisCommand], on cluster: RedisCluster, durable: Bool = false) async throws -> Exchange {
        // Per call only what every call needs: no command name is spelled out and no set of nodes made unless a
        // `MULTI` or a `WAIT` asks for it.
        let waiting = durable && configuration.waitReplicas > 0 ? RedisCluster.WaitAfter(waitCommand) : nil
        if let first = commands.first, first.isNamed("MULTI") {
            // The transaction alone, through its `EXEC`: what follows it goes after, routed as any call, so a redirected
            // transaction sent again does not run those commands twice.
            let end = commands.firstIndex { $0.isNamed("EXEC") || $0.isNamed("DISCARD") }.map { $0 + 1 } ?? commands.count
            let transaction = Array(commands[..<end])
            let sent = try await cluster.sendTransaction(
                transaction, operation: "MULTI " + transaction.dropFirst().dropLast().map(\.name).joined(separator: " "), waiting: waiting)
            var exchanged = Exchange(replies: sent.replies, node: sent.node)
            if let waiting {
                exchanged.replication.add(waiting.answer(from: sent.node), endpoint: sent.node.description, command: first.name, covers: Array(0..<end))
            }
            if end < commands.count {
                // Routed as any call, durable as this one (its own WAITs, each with its node's share).
                let rest = try await clusterExchange(Array(commands[end...]), on: cluster, durable: durable)
                exchanged.replies += rest.replies
                if let node = rest.node { exchanged.node = node }
                exchanged.replication.append(rest.replication, shiftedBy: end)
            }
            return exchanged
        }
        let delivered = try await cluster.deliver(commands, waiting: waiting)
        var exchanged = Exchange(replies: delivered.map(\.reply), node: delivered.last?.node)
        if let waiting {
            // Each node's answer counts the commands it ran (a redirected command's node is the one that answered it).
            var ran: [RedisConfiguration.Endpoint: [Int]] = [:]
            for (index, item) in delivered.enumerated() { ran[item.node, default: []].append(index) }
            let name = commands.first?.name
            for (node, covers) in ran { exchanged.replication.add(waiting.answer(from: node), endpoint: node.description, command: name, covers: covers) }
        }
        return exchanged
    }

    /// Redirections the cluster router followed (``RedisCluster/followedRedirections``); 0 for one server.
    public var clusterRedirections: Int { cluster?.followedRedirections ?? 0 }

    /// The nodes to run a per-node command on: the cluster's primaries, or the one server.
    public func primaries() async throws -> [RedisConfiguration.Endpoint] {
        guard let cluster else { return [configuration.endpoint] }
        return try await cluster.primaries()
    }

    /// Sends commands to one node, unrouted (`INFO`, `SCAN`, `FUNCTION LOAD`, `CLIENT UNBLOCK` of a connection
    /// there). For one server `node` is ignored: there is only one.
    public func send(_ commands: [RedisCommand], to node: RedisConfiguration.Endpoint) async throws -> [RedisReply] {
        guard let cluster else { return try await pipeline(commands) }
        return try await cluster.send(commands, to: node)
    }

    /// A connection for one caller's exclusive use (a blocking read) on the node that serves `key` now; on one
    /// server, ``makeDedicatedConnection(name:)``. The caller closes it. When the slot moves, the read on it
    /// answers `MOVED`: pass that to ``noteRedirection(_:on:)`` and make a new one. The node is looked up in a map
    /// asked again if older than a quarter second, so a connection made again after one failed (its primary was
    /// killed) goes to the replica promoted meanwhile.
    public func makeDedicatedConnection(
        forKey key: String, name: String = "hoopoe-redis-dedicated", learnsClientID: Bool = false
    ) async throws -> RedisConnection {
        guard let cluster else { return makeDedicatedConnection(name: name, learnsClientID: learnsClientID) }
        return RedisConnection(
            configuration: cluster.nodeConfiguration(try await cluster.freshEndpoint(forKey: key)), name: name, learnsClientID: learnsClientID)
    }

    /// Tells the router about a `MOVED` seen on a dedicated connection, so the next one goes to the new owner.
    public func noteRedirection(_ message: String, on connection: RedisConnection) {
        cluster?.noteRedirection(message, from: connection.configuration.endpoint)
    }
}
