import Synchronization

/// Routes commands to the primaries of a Redis Cluster: one pipelining ``RedisConnection`` per primary (each with
/// its own thread, decision 0001), the slot map (``ClusterSlotMap``), and the redirections a node may answer with
/// (``ClusterRedirection``).
///
/// A pipeline is split per node and sent to all of them at once; the replies are put back in the caller's order.
/// `MOVED` patches the map, resends, and refreshes the whole map in the background; `ASK` resends once after
/// `ASKING`; `TRYAGAIN`/`CLUSTERDOWN` back off and resend within the reconnect window; `NOSCRIPT` loads the script on
/// that node and resends. A node that cannot be reached (a primary killed, its replica not yet promoted) gets
/// nothing: the map is asked again of any node that answers, and the commands go where it says, with backoff, for up
/// to ``failoverWindow`` (decision 0031). A command, script or `MULTI` whose keys span slots is refused before anything is sent
/// (``HashSlot/CrossSlot``, naming the keys), because the cluster would refuse it with `CROSSSLOT` anyway and a
/// partial run of a transaction is worse than none.
///
/// ``RedisClient`` uses it when its configuration's topology is a cluster (`RedisClient+Cluster.swift`); nothing
/// here runs for one server.
public final class RedisCluster: Sendable {
    /// The configuration every node connection copies (credentials, timeouts, TLS); its endpoint is replaced.
    public let configuration: RedisConfiguration
    /// Nodes asked for the slot map when no known primary answers.
    public let seeds: [RedisConfiguration.Endpoint]
    /// How long a command for a slot whose primary cannot be reached waits for the cluster to promote a replica
    /// (`cluster-node-timeout`, 15 s by default, plus an election of about a second) before it fails.
    public let failoverWindow: Duration
    /// How long one connection to a node keeps trying to connect before the router looks at the map again.
    static let nodeReconnectWindow = Duration.milliseconds(250)
    /// How long one connect to a node may take. A primary whose host went silent (power lost, a partition: no refusal)
    /// cost the whole connect timeout, 5 s by default, on every try and every map refresh that asked it first, which
    /// ate the failover window before the replica's promotion was seen.
    static let nodeConnectTimeout = Duration.seconds(1)

    private struct State {
        var map: ClusterSlotMap?
        /// Each node's shared, pipelining connection. A call goes straight to it: requests queued while its thread writes
        /// or reads leave together in its next write (decision 0096).
        var connections: [RedisConfiguration.Endpoint: RedisConnection] = [:]
        /// Each source by its SHA, from every `SCRIPT LOAD` sent through this router: so a node that answers
        /// `NOSCRIPT` to an `EVALSHA` gets the script loaded and the call resent, whoever loaded it first.
        var scriptSources: [String: String] = [:]
        var closed = false
        /// When the map was last asked of the cluster.
        var refreshed: ContinuousClock.Instant?
        /// Nodes whose last send failed for want of a connection or an answer: a command any node may serve avoids
        /// them, and a refresh asks them last.
        var down: Set<RedisConfiguration.Endpoint> = []
    }
    private let state = Mutex(State())
    /// Whether ``State/down`` may hold a node: a send that succeeded takes the lock to clear its node only then, not
    /// on every call.
    private let anyDown = Atomic<Bool>(false)
    private let refreshing = Atomic<Bool>(false)
    private let redirections = Atomic<Int>(0)
    /// Redirections followed for one command before giving up (a map that keeps changing is a cluster in trouble).
    static let maxRedirections = 16

    /// - Parameters:
    ///   - configuration: credentials, timeouts and TLS for every node.
    ///   - seeds: nodes to ask for the slot map (at least one).
    ///   - failoverWindow: how long a command waits for an unreachable primary's slots to get a new primary;
    ///     ``RedisConfiguration/clusterFailoverWindow`` by default, at least the reconnect window.
    public init(configuration: RedisConfiguration, seeds: [RedisConfiguration.Endpoint], failoverWindow: Duration? = nil) {
        self.configuration = configuration
        self.seeds = seeds.isEmpty ? [configuration.endpoint] : seeds
        self.failoverWindow = max(failoverWindow ?? configuration.clusterFailoverWindow, configuration.reconnectWindow)
    }

    /// How many `MOVED`, `ASK`, `TRYAGAIN`/`CLUSTERDOWN` and `NOSCRIPT` answers this router has followed: a count
    /// that keeps rising means the map keeps changing under it (a resharding, a failover).
    public var followedRedirections: Int { redirections.load(ordering: .relaxed) }

    /// Closes every node connection after the work already queued.
    public func close() {
        let connections = state.withLock { state in
            state.closed = true
            return Array(state.connections.values)
        }
        for connection in connections { connection.close() }
    }

    // MARK: - The map

    /// The slot map, asked of the cluster on first use.
    public func slotMap() async throws -> ClusterSlotMap {
        if let map = state.withLock({ $0.map }) { return map }
        return try await refresh()
    }

    /// Asks the known primaries, then the other nodes the last map named (replicas), then the seeds, for the slot map (`CLUSTER SHARDS`, or `CLUSTER SLOTS` on a Redis
    /// before 7), and keeps the first complete answer; nodes known to be down last.
    /// - Throws: the last node's error when none answered with a map.
    @discardableResult
    public func refresh() async throws -> ClusterSlotMap {
        let (known, down) = state.withLock { (($0.map?.primaries ?? []) + ($0.map?.nodes ?? []), $0.down) }
        var candidates: [RedisConfiguration.Endpoint] = []
        for node in known + seeds where !candidates.contains(node) { candidates.append(node) }
        // A node known to be down is asked last: a silent one costs a connect timeout.
        candidates = candidates.filter { !down.contains($0) } + candidates.filter { down.contains($0) }
        var lastError: any Error = RedisError(.connectionFailed, endpoint: seeds.map(\.description).joined(separator: ","), command: "CLUSTER SHARDS", message: "no node answered")
        for node in candidates {
            do {
                let host = if case .tcp(let host, _) = node { host } else { "127.0.0.1" }
                var reply = try await sendOn(node, [RedisCommand("CLUSTER", "SHARDS")])[0]
                var map: ClusterSlotMap?
                if let message = reply.errorMessage {
                    guard message.lowercased().contains("unknown subcommand") else {
                        lastError = RedisError.reply(message, endpoint: node.description, command: "CLUSTER SHARDS")
                        continue
                    }
                    reply = try await sendOn(node, [RedisCommand("CLUSTER", "SLOTS")])[0]
                    map = ClusterSlotMap.parse(slots: reply, fallbackHost: host)
                } else {
                    map = ClusterSlotMap.parse(shards: reply, fallbackHost: host, tls: configuration.tls != nil)
                }
                guard let map, map.coveredSlots > 0 else {
                    lastError = RedisError(.protocolError, endpoint: node.description, command: "CLUSTER SHARDS", message: "no slot map in the reply (is this node in a cluster?)")
                    continue
                }
                let pruned = state.withLock { state in
                    state.map = map
                    state.refreshed = .now
                    return Self.prune(&state, keeping: map, seeds: seeds)
                }
                for connection in pruned { connection.close() }
                return map
            } catch {
                lastError = error
                if let error = error as? RedisError, [.connectionFailed, .connectionLost, .timeout].contains(error.code) { markDown(node) }
            }
        }
        throw lastError
    }

    /// Takes out of `state` the connections to nodes neither `map` nor the seeds name, and returns them to be closed.
    ///
    /// Why: a node leaves a cluster for good (a replaced pod with a new address, a removed shard, a failed primary
    /// forgotten) and its connection, with its thread and its reconnect attempts, was kept for the router's life: a
    /// long-running worker on a cluster whose nodes are replaced grew a thread and a socket each time. A node named
    /// again later gets a new connection. A caller holding one of them when it closes gets `closed` for a request
    /// never written, and sends it again where the map says now (``sendOn(_:_:thenWait:routed:)``).
    private static func prune(_ state: inout State, keeping map: ClusterSlotMap, seeds: [RedisConfiguration.Endpoint]) -> [RedisConnection] {
        let named = Set(map.primaries + map.nodes + seeds)
        let gone = state.connections.keys.filter { !named.contains($0) }
        guard !gone.isEmpty else { return [] }
        state.down.subtract(gone)
        return gone.compactMap { state.connections.removeValue(forKey: $0) }
    }

    /// Sends `batch` on `node`'s shared connection (with `wait` after it in the same request when given). A
    /// connection a map refresh pruned after this caller took it (``prune(_:keeping:seeds:)``) fails the request as
    /// `closed`, never written. A `routed` call (its node came from the map) then fails as `connectionFailed`, which
    /// its caller sends again where the map says now: sent to the same node, it made a new connection to a node that
    /// left. A call to a node the caller chose is sent once more on a new connection. Only the router's own
    /// ``close()`` ends a call with `closed`.
    private func sendOn(
        _ node: RedisConfiguration.Endpoint, _ batch: [RedisCommand], thenWait wait: RedisCommand? = nil, routed: Bool = false
    ) async throws -> [RedisReply] {
        do {
            return try await sendOnce(node, batch, thenWait: wait)
        } catch let error as RedisError where error.code == .closed && !state.withLock({ $0.closed }) {
            if routed {
                throw RedisError(
                    .connectionFailed, endpoint: node.description, command: batch.first?.name,
                    message: "its connection was closed: the node left the cluster's map (nothing was sent)")
            }
            return try await sendOnce(node, batch, thenWait: wait)
        }
    }

    private func sendOnce(_ node: RedisConfiguration.Endpoint, _ batch: [RedisCommand], thenWait wait: RedisCommand?) async throws -> [RedisReply] {
        if let wait { return try await connection(to: node).send(batch, thenWait: wait) }
        return try await connection(to: node).send(batch)
    }

    /// Notes that `node` did not answer: a node that hangs without refusing (a partition, a frozen host) times out,
    /// and asked first again it would cost every refresh and every keyless command the whole command timeout. The
    /// next send to it that succeeds clears the mark (``sendShare(_:to:)``).
    private func markDown(_ node: RedisConfiguration.Endpoint) {
        state.withLock { state in
            state.down.insert(node)
            anyDown.store(true, ordering: .relaxed)
        }
    }

    /// The primaries, for commands that must run on each (`SCAN`, `INFO`, `FUNCTION LOAD`, health checks), from a map at
    /// most ``primariesMapAge`` old (asked again if older; the cached one when no node answers).
    ///
    /// Only routed traffic refreshed the map: a dashboard whose pages' keys all hash elsewhere kept scanning a primary
    /// that had failed over (or moved) long ago, and every page listing queues failed until it was restarted.
    public func primaries() async throws -> [RedisConfiguration.Endpoint] {
        let refreshed = state.withLock { $0.refreshed }
        if refreshed.map({ ContinuousClock.now - $0 > Self.primariesMapAge }) ?? true { _ = try? await refresh() }
        return try await slotMap().primaries
    }

    /// How old a map ``primaries()`` uses may be.
    static let primariesMapAge: Duration = .seconds(5)

    /// The primary that serves `key` now.
    public func endpoint(forKey key: String) async throws -> RedisConfiguration.Endpoint {
        let slot = HashSlot.of(key)
        if let node = try await slotMap().primary(for: slot) { return node }
        if let node = try await refresh().primary(for: slot) { return node }
        throw RedisError(.server, endpoint: seeds[0].description, message: "CLUSTERDOWN no primary serves slot \(slot) (key \(key))")
    }

    /// The primary that serves `key`, from a map at most `age` old (asked again if older): for a connection made
    /// after one failed (a blocking read's), so that it goes to the replica promoted meanwhile, not back to a dead
    /// primary. The cached map when no node answers.
    public func freshEndpoint(forKey key: String, age: Duration = .milliseconds(250)) async throws -> RedisConfiguration.Endpoint {
        let refreshed = state.withLock { $0.refreshed }
        if refreshed.map({ ContinuousClock.now - $0 > age }) ?? true { _ = try? await refresh() }
        return try await endpoint(forKey: key)
    }

    /// The configuration of a connection to `node`: this cluster's, aimed at that node, with a short reconnect
    /// window (the router, not the connection, decides how long to wait for a node: it looks at the map between
    /// tries, and a failover moves the slots to another node).
    public func nodeConfiguration(_ node: RedisConfiguration.Endpoint) -> RedisConfiguration {
        var copy = configuration
        copy.endpoint = node
        copy.topology = .standalone
        copy.database = 0
        copy.reconnectWindow = min(configuration.reconnectWindow, Self.nodeReconnectWindow)
        copy.connectTimeout = min(configuration.connectTimeout, Self.nodeConnectTimeout)
        return copy
    }

    /// A redirection seen on a connection of the caller's own (a blocking read's): patches the map and refreshes it,
    /// so the caller's next connection goes to the right node.
    public func noteRedirection(_ message: String, from node: RedisConfiguration.Endpoint) {
        guard case .moved(let slot, let target)? = ClusterRedirection(message, replier: node) else { return }
        state.withLock { $0.map?.assign(slot...slot, to: target) }
        refreshInBackground()
    }

    /// One refresh at a time, started after a `MOVED` (a slot moved; others probably did too).
    private func refreshInBackground() {
        guard refreshing.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return }
        Task {
            _ = try? await self.refresh()
            self.refreshing.store(false, ordering: .releasing)
        }
    }

    /// The nodes this router holds a connection to now (tests, diagnostics).
    var connectedNodes: Set<RedisConfiguration.Endpoint> { state.withLock { Set($0.connections.keys) } }

    /// The shared, pipelining connection to `node`, made on first use.
    func connection(to node: RedisConfiguration.Endpoint) -> RedisConnection {
        state.withLock { state in
            if let existing = state.connections[node] { return existing }
            let made = RedisConnection(configuration: nodeConfiguration(node), name: "hoopoe-redis-\(node)")
            if state.closed { made.close() }
            state.connections[node] = made
            return made
        }
    }

    // MARK: - Sending

    /// Sends `commands` split per node, all nodes at once, and returns the replies in order (error replies in
    /// place, as ``RedisClient/pipeline(_:)`` does), after following every redirection.
    /// - Parameter scripts: script sources by SHA, so a `NOSCRIPT` for an `EVALSHA` can be loaded on that node.
    /// - Throws: ``HashSlot/CrossSlot`` for a command whose keys span slots (nothing sent); ``RedisError`` for a
    ///   transport failure.
    public func send(_ commands: [RedisCommand], scripts: [String: String] = [:]) async throws -> [RedisReply] {
        try await deliver(commands, scripts: scripts).map(\.reply)
    }

    /// Sends a transaction, `MULTI` … `EXEC`, to one node as one batch: all its keys must be in one slot. A redirection
    /// sends the whole transaction again, which is safe only because a redirected transaction ran none of its commands
    /// (`EXEC` is refused); a plain batch sent again would run its commands before the redirected one twice, so only a
    /// transaction is sent this way (the caller, ``RedisClient/clusterExchange(_:on:durable:)``, sends what follows its
    /// `EXEC` after it). Internal: ``RedisClient/transaction(_:durable:)`` is the public way.
    /// - Throws: ``HashSlot/CrossSlot`` naming `operation` and the keys when they span slots (nothing sent).
    func sendTransaction(
        _ commands: [RedisCommand], operation: String, waiting: WaitAfter? = nil
    ) async throws -> (replies: [RedisReply], node: RedisConfiguration.Endpoint) {
        let route = ClusterRoute(together: commands)
        if case .crossSlot(let keys) = route { throw HashSlot.CrossSlot(operation: operation, keys: keys) }
        var backoff = Backoff(window: configuration.reconnectWindow)
        var unreachable: Backoff?
        var redirected = 0
        while true {
            let node = try await target(for: route, waiting: &unreachable)
            var replies: [RedisReply]
            do {
                replies = try await sendOn(node, commands, thenWait: waiting?.command, routed: true)
                if let waiting { waiting.record(replies.removeLast(), from: node) }
            } catch let error as RedisError where error.code == .connectionFailed {
                // Nothing was sent: wait for the map to name another primary (a failover), within the window.
                try await awaitFailover(after: error, backoff: &unreachable)
                continue
            }
            let redirection = replies.lazy.compactMap { $0.errorMessage.flatMap { ClusterRedirection($0, replier: node) } }.first
            if redirection != nil { redirections.add(1, ordering: .relaxed) }
            switch redirection {
            case .moved(let slot, let to)?:
                state.withLock { $0.map?.assign(slot...slot, to: to) }
                refreshInBackground()
            case .ask?, .tryAgain?:
                // ASKING covers the next command only, not a transaction's: wait for the migration to finish (MOVED).
                if !(await backoff.pause()) { return (replies, node) }
            case .noScript?, nil:
                return (replies, node)
            }
            redirected += 1
            if redirected > Self.maxRedirections { return (replies, node) }
        }
    }

    /// Sends commands to one given node (`CLIENT UNBLOCK` of a connection there, `FUNCTION LOAD`, `INFO`), with no
    /// routing: the caller chose the node.
    public func send(_ commands: [RedisCommand], to node: RedisConfiguration.Endpoint) async throws -> [RedisReply] {
        try await sendOn(node, commands)
    }

    /// A script's SHA-1, the name `EVALSHA` calls it by, computed here; its source is remembered under it, so the node
    /// that answers the first call `NOSCRIPT` gets it loaded and the call resent (``deliver(_:scripts:)``).
    ///
    /// Why not `SCRIPT LOAD`: it has no key, so it went to the first primary in the map, not to the node of the call's
    /// keys. A primary that stopped answering without refusing (a partition, a frozen host: never marked down) then
    /// failed every queue's first call of every script for as long as it hung, on healthy nodes too: a worker started
    /// then could neither renew its leases nor acknowledge, and its jobs ran twice.
    public func scriptSHA(of source: String) -> String {
        let sha = RedisScript.sha1(source)
        state.withLock { $0.scriptSources[sha] = source }
        return sha
    }

    /// Remembers the source of a script `SCRIPT LOAD` just loaded, by the SHA the node answered.
    private func rememberScript(_ command: RedisCommand, loaded reply: RedisReply) {
        guard command.count == 3, command.isNamed("SCRIPT"), let sha = reply.string, reply.errorMessage == nil,
            String(decoding: command.argument(1), as: UTF8.self).uppercased() == "LOAD"
        else { return }
        let source = String(decoding: command.argument(2), as: UTF8.self)
        state.withLock { $0.scriptSources[sha] = source }
    }

    /// One reply and the node it came from.
    struct Delivered {
        var reply: RedisReply
        var node: RedisConfiguration.Endpoint
    }

    /// A durable call's `WAIT`, sent in the same request as each node's share (``RedisConnection/send(_:thenWait:)``),
    /// and the latest answer of each node.
    ///
    /// Why in the same request: sent as a call of its own after the writes, it could go out on a new socket (the
    /// connection dropped meanwhile for another caller's timeout), where `WAIT` counts nothing and answers at once:
    /// the write was reported replicated though no replica had it. And calls' own `WAIT`s queued one behind another on
    /// the node's connection, each blocking its timeout while a replica was gone, with the worker's lease renewals and
    /// heartbeats behind them (they use the shared node connections on a cluster): twenty durable settles held a
    /// renewal 20 s, and live jobs were recovered and ran twice. In the request, concurrent calls share one (decision
    /// 0034), as on one server.
    final class WaitAfter: Sendable {
        let command: RedisCommand
        private let answers = Mutex<[RedisConfiguration.Endpoint: RedisReply]>([:])

        init(_ command: RedisCommand) { self.command = command }

        /// Keeps the worst answer a node gave (an error, else the fewest replicas): a node sent a share again (a
        /// redirection came back to it, a script loaded there) on a new socket would answer a `WAIT` that counts none
        /// of the first share's writes, and must not clear the first one's shortfall.
        func record(_ reply: RedisReply, from node: RedisConfiguration.Endpoint) {
            answers.withLock { answers in
                guard let kept = answers[node] else { answers[node] = reply; return }
                if kept.errorMessage != nil { return }
                if reply.errorMessage != nil || (reply.int ?? 0) < (kept.int ?? 0) { answers[node] = reply }
            }
        }

        /// The worst `WAIT` answer from `node`; nil when none came (its share was not sent with one).
        func answer(from node: RedisConfiguration.Endpoint) -> RedisReply? { answers.withLock { $0[node] } }
    }

    /// The routing loop behind ``send(_:scripts:)``.
    func deliver(_ commands: [RedisCommand], scripts: [String: String] = [:], waiting: WaitAfter? = nil) async throws -> [Delivered] {
        if commands.isEmpty { return [] }
        var routes: [ClusterRoute] = []
        routes.reserveCapacity(commands.count)
        for command in commands {
            let route = ClusterRoute(command)
            if case .crossSlot(let keys) = route { throw HashSlot.CrossSlot(operation: command.name, keys: keys) }
            routes.append(route)
        }
        var results = [Delivered?](repeating: nil, count: commands.count)
        var pending: [Delivery] = []
        pending.reserveCapacity(commands.count)
        let map = try await slotMap()
        for index in commands.indices {
            // The map read once for the whole pipeline; a slot it lacks asks again (a refresh).
            let known: RedisConfiguration.Endpoint? =
                switch routes[index] {
                case .slot(let slot): map.primary(for: slot)
                case .anyNode: nil  // the first primary not known to be down
                case .crossSlot: nil
                }
            if let known {
                pending.append(Delivery(index: index, node: known))
            } else {
                pending.append(Delivery(index: index, node: try await target(for: routes[index])))
            }
        }
        var backoff = Backoff(window: configuration.reconnectWindow)
        var unreachable: Backoff?
        var rounds = 0
        do {
            while !pending.isEmpty {
                rounds += 1
                let outcomes = await dispatch(pending, of: commands, waiting: waiting)
                var again: [Delivery] = []
                var pause = false
                var notSent: [Int] = []
                var notSentError: RedisError?
                var lost: (any Error)?
                for (delivery, outcome) in zip(pending, outcomes) {
                    let reply: RedisReply
                    switch outcome {
                    case .success(let value):
                        reply = value
                    case .failure(let error as RedisError) where error.code == .connectionFailed:
                        notSent.append(delivery.index)  // never sent: safe to send elsewhere
                        notSentError = error
                        continue
                    case .failure(let error):
                        lost = lost ?? error  // may have run: not repeated, the caller decides
                        continue
                    }
                    results[delivery.index] = Delivered(reply: reply, node: delivery.node)
                    rememberScript(commands[delivery.index], loaded: reply)
                    guard rounds <= Self.maxRedirections, let message = reply.errorMessage,
                        let redirection = ClusterRedirection(message, replier: delivery.node)
                    else { continue }
                    redirections.add(1, ordering: .relaxed)
                    switch redirection {
                    case .moved(let slot, let to):
                        state.withLock { $0.map?.assign(slot...slot, to: to) }
                        refreshInBackground()
                        again.append(Delivery(index: delivery.index, node: to))
                    case .ask(_, let to):
                        again.append(Delivery(index: delivery.index, node: to, asking: true))
                    case .tryAgain:
                        pause = true
                        again.append(Delivery(index: delivery.index, node: try await target(for: routes[delivery.index])))
                    case .noScript:
                        let command = commands[delivery.index]
                        let sha = command.count > 1 ? String(decoding: command.argument(1), as: UTF8.self) : ""
                        guard command.name == "EVALSHA" || command.name == "EVALSHA_RO",
                            let source = scripts[sha] ?? state.withLock({ $0.scriptSources[sha] })
                        else { continue }
                        let loaded = try await sendOn(delivery.node, [RedisCommand("SCRIPT", "LOAD", source)])[0]
                        if loaded.errorMessage == nil { again.append(delivery) }
                    }
                }
                if let lost {
                    refreshInBackground()
                    throw lost
                }
                if let notSentError {
                    try await awaitFailover(after: notSentError, backoff: &unreachable)
                    for index in notSent { again.append(Delivery(index: index, node: try await target(for: routes[index], waiting: &unreachable))) }
                } else if pause, !(await backoff.pause()) {
                    break
                }
                pending = again
            }
        } catch let error as RedisError where !error.outcomeUnknown && results.contains(where: { $0.map(Self.mayHaveRun) ?? false }) {
            // Other nodes' shares ran: an error that reads as "nothing ran" (a node unreachable past the window, a slot
            // no primary serves) would invite a retry that writes those shares twice (a multi-queue enqueue batch).
            // A reply that was a redirection (MOVED, ASK, TRYAGAIN, CLUSTERDOWN, NOSCRIPT) ran nothing: counted, a lone
            // command sent on after a MOVED to a node that then failed read as "may have run", and an acknowledgement
            // Redis never ran was given up (its jobs ran twice).
            throw RedisError(
                .connectionLost, endpoint: error.endpoint, command: error.command, message: "\(error.message); the pipeline's commands for other nodes ran")
        }
        return results.map { $0! }
    }

    /// Whether the command behind `delivered` may have run: any reply but a redirection's, which the node answers
    /// without running it.
    private static func mayHaveRun(_ delivered: Delivered) -> Bool {
        guard let message = delivered.reply.errorMessage else { return true }
        return ClusterRedirection(message, replier: delivered.node) == nil
    }

    /// After a node could not be reached: waits the next backoff step of the failover window, then asks any node
    /// that answers for the map, so the next try goes to the replica promoted in the dead primary's place.
    /// - Throws: `error` once ``failoverWindow`` is spent.
    private func awaitFailover(after error: RedisError, backoff: inout Backoff?) async throws {
        redirections.add(1, ordering: .relaxed)
        if backoff == nil { backoff = Backoff(window: failoverWindow) }
        guard await backoff!.pause() else { throw error }
        _ = try? await refresh()
    }

    /// One command of a pipeline on its way: which (its index in the pipeline), to which node, whether after `ASKING`.
    /// A struct, not a tuple: an array of tuples had its type's metadata looked up at run time, every call.
    private struct Delivery {
        let index: Int
        let node: RedisConfiguration.Endpoint
        var asking = false
    }

    /// Sends each node its share of `commands` at once and returns the outcomes in the order of `deliveries`: a reply
    /// each, or its node's transport failure (the other nodes' replies stand).
    private func dispatch(_ deliveries: [Delivery], of commands: [RedisCommand], waiting: WaitAfter?) async -> [Result<RedisReply, any Error>] {
        // One node (a lone command, or a pipeline of one slot: the usual case) needs no grouping by node.
        if let node = deliveries.first?.node, deliveries.allSatisfy({ $0.node == node }) {
            do {
                return try await sendShare(deliveries, of: commands, to: node, waiting: waiting).map { .success($0) }
            } catch {
                return Array(repeating: .failure(error), count: deliveries.count)
            }
        }
        var byNode: [RedisConfiguration.Endpoint: [Int]] = [:]
        for (position, delivery) in deliveries.enumerated() { byNode[delivery.node, default: []].append(position) }
        var outcomes = [Result<RedisReply, any Error>](repeating: .success(.null), count: deliveries.count)
        // Each child returns a plain struct, not a tuple holding a `Result<_, any Error>`: with the latter, release
        // builds (Swift 6.3.1) crashed in the task group's copy of the child's result (swift_retain of a bad pointer
        // in tuple_initializeWithCopy) on every pipeline over two or more nodes; debug builds did not.
        await withTaskGroup(of: ShareOutcome.self) { group in
            for (node, positions) in byNode {
                let share = positions.map { deliveries[$0] }
                group.addTask {
                    do {
                        return ShareOutcome(positions: positions, replies: try await self.sendShare(share, of: commands, to: node, waiting: waiting), error: nil)
                    } catch {
                        return ShareOutcome(positions: positions, replies: [], error: error)
                    }
                }
            }
            for await share in group {
                if let error = share.error {
                    for position in share.positions { outcomes[position] = .failure(error) }
                } else {
                    for (position, reply) in zip(share.positions, share.replies) { outcomes[position] = .success(reply) }
                }
            }
        }
        return outcomes
    }

    /// What one node's share of a pipeline came back with: its replies in order, or the failure of its connection.
    private struct ShareOutcome: Sendable {
        let positions: [Int]
        let replies: [RedisReply]
        let error: (any Error)?
    }

    /// One node's share of a pipeline, `ASKING` put before each command that needs it; the replies of the commands
    /// only. A lost or refused connection refreshes the map in the background (the node may be gone for good).
    private func sendShare(
        _ share: [Delivery], of commands: [RedisCommand], to node: RedisConfiguration.Endpoint, waiting: WaitAfter?
    ) async throws -> [RedisReply] {
        // The whole pipeline for one node, in order, none after ASKING (the usual case): sent as the caller made it.
        let whole = share.count == commands.count && !share.contains { $0.asking } && share.indices.allSatisfy { share[$0].index == $0 }
        var batch: [RedisCommand] = whole ? commands : []
        var positions: [Int] = []
        if !whole {
            for item in share {
                if item.asking { batch.append(RedisCommand("ASKING")) }
                positions.append(batch.count)
                batch.append(commands[item.index])
            }
        }
        do {
            var replies = try await sendOn(node, batch, thenWait: waiting?.command, routed: true)
            if let waiting { waiting.record(replies.removeLast(), from: node) }
            if anyDown.load(ordering: .relaxed) {
                state.withLock { state in
                    state.down.remove(node)
                    if state.down.isEmpty { anyDown.store(false, ordering: .relaxed) }
                }
            }
            return batch.count == share.count ? replies : positions.map { replies[$0] }
        } catch let error as RedisError where error.code == .connectionFailed || error.code == .connectionLost || error.code == .timeout {
            markDown(node)
            refreshInBackground()
            throw error
        }
    }

    /// The node for a route, from the map (refreshed once when the slot has no primary in it).
    private func target(for route: ClusterRoute) async throws -> RedisConfiguration.Endpoint {
        var waiting: Backoff?
        return try await target(for: route, waiting: &waiting)
    }

    /// The node for a route. A slot without a primary in the map (its primary failed and no replica is promoted
    /// yet) is asked of the cluster again, with backoff, until one serves it or `waiting`'s failover window (shared
    /// with the caller's other waits for this command) is spent.
    /// - Throws: `CLUSTERDOWN` once the window is spent; the refresh's error when no node answers.
    private func target(for route: ClusterRoute, waiting: inout Backoff?) async throws -> RedisConfiguration.Endpoint {
        let map = try await slotMap()
        switch route {
        case .anyNode:
            let down = state.withLock { $0.down }
            return map.primaries.first { !down.contains($0) } ?? map.primaries.first ?? seeds[0]
        case .slot(let slot):
            if let node = map.primary(for: slot) { return node }
            while true {
                if let node = try await refresh().primary(for: slot) { return node }
                if waiting == nil { waiting = Backoff(window: failoverWindow) }
                guard await waiting!.pause() else {
                    throw RedisError(.server, endpoint: seeds[0].description, message: "CLUSTERDOWN no primary serves slot \(slot)")
                }
            }
        case .crossSlot(let keys):
            throw HashSlot.CrossSlot(operation: "command", keys: keys)
        }
    }
}

/// Pauses between tries of a command the cluster asked to repeat (`TRYAGAIN`, `CLUSTERDOWN`): 25 ms doubling to
/// 500 ms, for at most the reconnect window, then the last reply stands.
struct Backoff {
    private let deadline: ContinuousClock.Instant
    private var delay = Duration.milliseconds(25)

    init(window: Duration) {
        deadline = .now + window
    }

    /// Sleeps the next delay and returns true; false (at once) once the window is spent.
    mutating func pause() async -> Bool {
        if ContinuousClock.now + delay > deadline { return false }
        try? await Task.sleep(for: delay)
        delay = min(delay * 2, .milliseconds(500))
        return true
    }
}
