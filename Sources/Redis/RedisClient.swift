import Synchronization

/// A Redis client: a small pool of pipelining connections, safe to share across tasks.
///
/// Every call is `async` and never blocks a cooperative thread: the connections' own threads do the
/// blocking I/O. Concurrent calls are pipelined into shared round trips automatically (see
/// ``RedisConnection``). Commands that block on the server (`BLMOVE`, `XREADGROUP ... BLOCK`) or that
/// need a connection to themselves (`WATCH`, `SUBSCRIBE`) belong on a ``makeDedicatedConnection()``.
///
/// With Sentinel (`redis-sentinel://`) every connection follows the primary (``SentinelFollower``): the sentinels
/// are asked before each connect, every connection not already on the new primary is dropped on a switch, a
/// connection whose node refuses a write (`READONLY`, `MASTERDOWN`: it did not run) leaves that node, and the refused
/// command is sent once more on it, to the primary the sentinels name then.
///
/// A call marked `durable` waits, when ``RedisConfiguration/waitReplicas`` is above 0, until that many replicas
/// have the write (`WAIT` in the same round trip, one shared by the durable calls pipelined together), and fails with
/// ``RedisError/Code/notReplicated`` when fewer did; a command's own error reply comes first (it ran nothing: a
/// `NOSCRIPT` is loaded and sent again, a `NOREPLICAS` is thrown as itself), `RedisClient+Durable.swift` says why.
public final class RedisClient: Sendable {
    /// The configuration the client was made with.
    public let configuration: RedisConfiguration
    private let connections: [RedisConnection]
    /// Set in Sentinel mode: keeps every connection on the current primary.
    private let follower: SentinelFollower?
    /// Set for a Redis Cluster: routes every call by its keys' slot (`RedisClient+Cluster.swift`).
    let cluster: RedisCluster?
    private let nextConnection = Atomic<Int>(0)
    /// Where calls of tasks that prefer no pooled connection go (``PoolRouting``).
    private let routing = Atomic<PoolRouting>(.roundRobin)
    /// SHA1 of each loaded script, by source.
    private let scriptHashes = Mutex<[ScriptSource: String]>([:])

    /// Starts the pool's threads. Connections are made on first use.
    public convenience init(configuration: RedisConfiguration) {
        self.init(configuration: configuration, watchesSentinel: true)
    }

    /// - Parameter watchesSentinel: false: no `+switch-master` subscription, for tests of the other ways a move is
    ///   found (`READONLY`, a closed socket).
    init(configuration: RedisConfiguration, watchesSentinel: Bool) {
        self.configuration = configuration
        cluster = Self.makeCluster(configuration)
        if case .sentinel(let settings) = configuration.topology {
            let follower = SentinelFollower(settings: settings, connectTimeout: configuration.connectTimeout)
            connections = (0..<configuration.poolSize).map {
                RedisConnection(configuration: configuration, name: "hoopoe-redis-\($0)", leavesARefusingNode: true) { () throws(RedisError) in
                    try follower.address()
                }
            }
            connections.forEach(follower.track)
            if watchesSentinel { follower.startWatching() }
            self.follower = follower
        } else {
            connections = (0..<configuration.poolSize).map {
                RedisConnection(configuration: configuration, name: "hoopoe-redis-\($0)")
            }
            follower = nil
        }
    }

    /// Parses `url` and starts a client.
    /// - Throws: ``RedisError`` `invalidURL`.
    public convenience init(url: String) throws {
        try self.init(configuration: RedisConfiguration(url: url))
    }

    /// Runs one command.
    /// - Throws: ``RedisError``; an error reply becomes code `server` with the server's message (`permissionDenied`
    ///   for `NOPERM`).
    /// - Parameter durable: wait for ``RedisConfiguration/waitReplicas`` replicas (when above 0).
    @discardableResult
    public func send(_ command: RedisCommand, durable: Bool = false) async throws -> RedisReply {
        if cluster == nil && follower == nil && !(durable && configuration.waitReplicas > 0) {
            // One server, no `WAIT`: the command alone, as ``exchange(_:durable:retryWhole:)`` would send it, without
            // its `Exchange` (built and destroyed through generic witnesses, ~130 instructions a command; callgrind,
            // session 62). The endpoint is named only when thrown (``endpointName``).
            let reply = try await connection().send([command])[0]
            if case .error(let message) = reply { throw RedisError.reply(message, endpoint: endpointName, command: command.name) }
            return reply
        }
        let exchanged = try await exchange([command], durable: durable)
        if case .error(let message) = exchanged.replies[0] {
            // An error reply ran nothing: it is the error, whatever the `WAIT` beside it counted (RedisClient+Durable).
            throw RedisError.reply(message, endpoint: exchanged.node?.description ?? endpointName, command: command.name)
        }
        try judge(exchanged.replication) { _ in true }
        return exchanged.replies[0]
    }

    /// Runs one command given as text arguments.
    /// - Parameters:
    ///   - name: the command, e.g. `"GET"`.
    ///   - arguments: its arguments.
    @discardableResult
    public func send(_ name: String, _ arguments: String...) async throws -> RedisReply {
        try await send(RedisCommand(name, arguments))
    }

    /// Sends many commands in one round trip and returns their replies in order. Error replies are
    /// returned in place (`.error`), not thrown.
    /// - Parameter durable: wait for ``RedisConfiguration/waitReplicas`` replicas (when above 0) after the last.
    /// - Throws: ``RedisError`` for the transport; `notReplicated` when a durable pipeline reached too few replicas
    ///   (its commands that did not answer with an error ran on the primary; when every one did, nothing was written,
    ///   and the error replies are returned).
    public func pipeline(_ commands: [RedisCommand], durable: Bool = false) async throws -> [RedisReply] {
        let exchanged = try await exchange(commands, durable: durable)
        try judge(exchanged.replication) { exchanged.replies[$0].errorMessage == nil }
        return exchanged.replies
    }

    /// Runs commands atomically in `MULTI`/`EXEC` (one round trip) and returns `EXEC`'s replies.
    /// - Throws: ``RedisError`` `server` when a command was rejected while queueing or `EXEC` failed.
    public func transaction(_ commands: [RedisCommand], durable: Bool = false) async throws -> [RedisReply] {
        let exchanged = try await exchange([RedisCommand("MULTI")] + commands + [RedisCommand("EXEC")], durable: durable, retryWhole: true)
        let replies = exchanged.replies
        var server: String { exchanged.node?.description ?? endpointName }  // named on an error only
        if case .error(let message) = replies[0] {
            // MULTI refused (an ACL without @transaction): the commands ran one by one, not atomically; say so.
            throw RedisError.reply(message, endpoint: server, command: "MULTI")
        }
        for (reply, command) in zip(replies.dropFirst(), commands) {
            if case .error(let message) = reply {
                _ = try? await send("DISCARD")
                throw RedisError.reply(message, endpoint: server, command: command.name)
            }
        }
        switch replies.last {
        case .array(let results)?:
            // It ran: now the `WAIT`'s verdict (a refused or aborted transaction ran nothing, and is its error).
            try judge(exchanged.replication) { _ in true }
            return results
        case .error(let message)?:
            throw RedisError.reply(message, endpoint: server, command: "EXEC")
        default:
            throw RedisError(.server, endpoint: server, command: "EXEC", message: "transaction aborted")
        }
    }

    /// Runs a Lua script by its SHA, loading it first if needed and once more on `NOSCRIPT`.
    /// - Parameters:
    ///   - script: the script.
    ///   - keys: the keys it touches (`KEYS[...]`); all in one hash slot for Redis Cluster.
    ///   - arguments: its other arguments (`ARGV[...]`).
    /// - Throws: ``RedisError`` `server` with the script's error, naming the script.
    ///   - durable: wait for ``RedisConfiguration/waitReplicas`` replicas (when above 0).
    @discardableResult
    public func run(_ script: RedisScript, keys: [String] = [], arguments: [String] = [], durable: Bool = false) async throws -> RedisReply {
        try await run(script, keys: keys, arguments: arguments, after: [], durable: durable).script
    }

    /// Sends `commands`, then runs `script`, in one round trip (one write, the script's arguments kept out of Lua:
    /// what the commands carry is not hashed into the script's interpreter). Not atomic: the commands run first, and
    /// a failure between them and the script leaves them done. On `NOSCRIPT` only the script is sent again.
    /// - Returns: the commands' replies (error replies in place, not thrown) and the script's.
    /// - Throws: ``RedisError`` for the transport, and `server` with the script's error, as ``run(_:keys:arguments:durable:)``.
    public func run(
        _ script: RedisScript, keys: [String], arguments: [String], after commands: [RedisCommand], durable: Bool = false
    ) async throws -> (commands: [RedisReply], script: RedisReply) {
        let sha = try await scriptSHA(script)
        // On a cluster the node that ran the script is kept for its error (the client's endpoint is the first seed).
        var first = try await exchange(commands + [evalshaCommand(sha, keys: keys, arguments: arguments)], durable: durable)
        let answeredFirst = first.replies.removeLast()
        var reply = answeredFirst, node = first.node
        var again: Exchange?
        if case .error(let message) = reply, message.hasPrefix("NOSCRIPT") {
            // Before any `WAIT` verdict (RedisClient+Durable): a promoted primary lacks the scripts, and its `NOSCRIPT`
            // beside a short `WAIT` was thrown as "on the primary, too few replicas" though the script never ran.
            let reloaded = try await scriptSHA(script, reload: true)
            let resent = try await exchange([evalshaCommand(reloaded, keys: keys, arguments: arguments)], durable: durable)
            (reply, node, again) = (resent.replies[0], resent.node, resent)
        }
        if case .error(let message) = reply { throw scriptFailure(message, in: script, on: node) }
        // The first `WAIT` speaks for the commands, and for the script when it ran then; the second for the script sent again.
        try judge(first.replication) { ($0 < first.replies.count ? first.replies[$0] : answeredFirst).errorMessage == nil }
        if let again { try judge(again.replication) { _ in true } }
        return (first.replies, reply)
    }

    /// Runs a Lua script on `connection` (one of ``makeDedicatedConnection(name:)``'s) instead of the pool, by its SHA
    /// as ``run(_:keys:arguments:durable:)`` does, loading it there when unknown and once more on `NOSCRIPT`: nothing
    /// of the call waits for a pooled connection, whose thread a task may hold (``connectionExecutors``).
    /// - Throws: ``RedisError`` for the transport, and `server` with the script's error.
    @discardableResult
    public func run(_ script: RedisScript, keys: [String], arguments: [String], on connection: RedisConnection) async throws -> RedisReply {
        let sha = try await scriptSHA(script, on: connection)
        var reply = try await connection.send([evalshaCommand(sha, keys: keys, arguments: arguments)])[0]
        if case .error(let message) = reply, message.hasPrefix("NOSCRIPT") {
            let reloaded = try await scriptSHA(script, reload: true, on: connection)
            reply = try await connection.send([evalshaCommand(reloaded, keys: keys, arguments: arguments)])[0]
        }
        if case .error(let message) = reply { throw scriptFailure(message, in: script, on: cluster == nil ? nil : connection.configuration.endpoint) }
        return reply
    }

    /// A script's error reply as thrown, naming the command an ACL refused inside it when Redis says which line.
    /// - Parameter node: the node that ran it (on a cluster), else nil: ``endpointName``.
    private func scriptFailure(_ message: String, in script: RedisScript, on node: RedisConfiguration.Endpoint? = nil) -> RedisError {
        let refused = message.contains(RedisError.scriptPermissionMarker) ? Self.refusedCommand(message, in: script) : nil
        return RedisError.reply(
            message, endpoint: node?.description ?? endpointName, command: refused.map { "\($0) (in script \(script.name))" } ?? "EVALSHA \(script.name)")
    }

    /// The command a script was refused, from the line Redis names (`... on @user_script:66.`): Redis does not
    /// say which command, and an operator fixing an ACL needs exactly that.
    static func refusedCommand(_ message: String, in script: RedisScript) -> String? {
        guard let marker = message.firstRange(of: "@user_script:"), let line = Int(message[marker.upperBound...].prefix(while: \.isNumber)) else { return nil }
        let lines = script.source.split(separator: "\n", omittingEmptySubsequences: false)
        guard line >= 1, line <= lines.count, let call = lines[line - 1].firstRange(of: "redis.call(") else { return nil }
        let name = lines[line - 1][call.upperBound...].drop { $0 == "'" || $0 == "\"" }.prefix { $0.isLetter }
        return name.isEmpty ? nil : name.uppercased()
    }

    /// Opens a connection for one caller's exclusive use (blocking commands, `WATCH`). The caller
    /// closes it.
    /// In Sentinel mode it follows the primary like the pooled ones (a blocking read on it is interrupted by a
    /// switch).
    public func makeDedicatedConnection(name: String = "hoopoe-redis-dedicated", learnsClientID: Bool = false) -> RedisConnection {
        guard let follower else { return RedisConnection(configuration: configuration, name: name, learnsClientID: learnsClientID) }
        let connection = RedisConnection(configuration: configuration, name: name, leavesARefusingNode: true, learnsClientID: learnsClientID) { () throws(RedisError) in
            try follower.address()
        }
        follower.track(connection)
        return connection
    }

    /// Closes every pooled connection after the work already queued (and stops following Sentinel).
    public func close() {
        follower?.stop()
        cluster?.close()
        for connection in connections { connection.close() }
    }

    /// The server an error names: the primary last found in Sentinel mode (the configured endpoint is the first
    /// sentinel there), else the configured endpoint (on a cluster, its first seed: a call's own error names the node
    /// that answered it, ``exchange(_:durable:retryWhole:)``).
    public var endpointName: String {
        follower?.knownPrimary?.description ?? configuration.endpoint.description
    }

    /// One round trip on a pooled connection (on a cluster, routed by ``RedisCluster``), with what Sentinel and
    /// durability add around it; its `WAIT`s are answered but not judged: the caller does that once it has read the
    /// replies (``judge(_:wrote:)``). One server and no `durable` (the common case) is one plain `send`: nothing is
    /// added to the standalone path. On a cluster it also says which node answered the last command (an OOM from node
    /// C named seed A, and sent an operator to the wrong server); nil otherwise, when an error names ``endpointName``.
    /// - Parameter retryWhole: on a refusal, send every command again (a `MULTI` block: the server refused it as a
    ///   whole, `EXECABORT`), not only the refused ones.
    private func exchange(_ commands: [RedisCommand], durable: Bool, retryWhole: Bool = false) async throws -> Exchange {
        if let cluster { return try await clusterExchange(commands, on: cluster, durable: durable) }
        let waits = durable && configuration.waitReplicas > 0
        if follower == nil && !waits { return Exchange(replies: try await connection().send(commands)) }
        let pooled = connection()
        var replies = try await waits ? pooled.send(commands, thenWait: waitCommand) : pooled.send(commands)
        var replication = Replication()
        if follower != nil {
            let refused = commands.indices.filter { replies[$0].refusesAsNotPrimary }
            if !refused.isEmpty {
                // Refused without running (the node is a replica now). The connection left that node as it read the
                // refusal (``RedisConnection``'s `leavesARefusingNode`), so sent again on it, the commands go where the
                // sentinels name now: it asks them before it reconnects, and a move it finds drops every connection
                // not on the new primary (``SentinelFollower``). No other connection is dropped here: one already on
                // the new primary may have a write in flight, which would fail as lost though it ran.
                let again = retryWhole ? Array(commands.indices) : refused
                let resent = again.map { commands[$0] }
                let retried = try await waits ? pooled.send(resent, thenWait: waitCommand) : pooled.send(resent)
                for (index, reply) in zip(again, retried) { replies[index] = reply }
                if waits {
                    // The commands not sent again ran where the first WAIT counted: its verdict stands for them.
                    let name = commands.first?.name, sentAgain = Set(again)
                    replication.add(replies[commands.count], endpoint: endpointName, command: name, covers: commands.indices.filter { !sentAgain.contains($0) })
                    replication.add(retried[retried.count - 1], endpoint: endpointName, command: name, covers: again)
                    replies.removeLast()
                    return Exchange(replies: replies, replication: replication)
                }
            }
        }
        if waits { replication.add(replies.removeLast(), endpoint: endpointName, command: commands.first?.name, covers: Array(commands.indices)) }
        return Exchange(replies: replies, replication: replication)
    }

    /// The pooled connections' executors, one a connection, in the pool's order. A task that prefers one
    /// (`Task(executorPreference:)`) runs on that connection's thread, and its calls on this client go on that
    /// connection (``connection()``): a call joins the thread's next write with no signal to it, and its reply resumes
    /// the task where it was read. The worker's runners run so when the pool has several connections (decision 0072).
    /// Such a task must not block its thread: every call on that connection waits while it does.
    public var connectionExecutors: [RedisConnectionExecutor] { connections.map(\.executor) }

    /// Where calls of tasks that prefer no pooled connection go from now on; round the pool until set. A worker sets it
    /// as the fetch finds a backlog or none (decision 0076).
    public func route(_ routing: PoolRouting) {
        self.routing.store(routing, ordering: .relaxed)
    }

    /// The connection a call goes on: the one whose thread the calling task prefers (``connectionExecutors``), else as
    /// ``route(_:)`` said: the next in turn, or the first.
    private func connection() -> RedisConnection {
        if connections.count == 1 { return connections[0] }
        if let current = withUnsafeCurrentTask(body: { $0?.unownedTaskExecutor }) {
            for connection in connections where connection.executor.asUnownedTaskExecutor() == current { return connection }
        }
        if routing.load(ordering: .relaxed) == .first { return connections[0] }
        let index = nextConnection.wrappingAdd(1, ordering: .relaxed).oldValue
        return connections[index % connections.count]
    }

    /// The script's SHA on the server, loading it when unknown (or when `reload` says the server forgot it).
    /// - Parameter connection: where to load it (a dedicated connection); nil: the pool.
    /// On a cluster (and no dedicated connection) nothing is sent: the SHA is computed, and the node that runs a call
    /// loads the script when it answers `NOSCRIPT` (``RedisCluster/scriptSHA(of:)`` says why).
    private func scriptSHA(_ script: RedisScript, reload: Bool = false, on connection: RedisConnection? = nil) async throws -> String {
        if !reload, let sha = scriptHashes.withLock({ $0[ScriptSource(script)] }) { return sha }
        if connection == nil, let cluster {
            let sha = cluster.scriptSHA(of: script.source)
            scriptHashes.withLock { $0[ScriptSource(script)] = sha }
            return sha
        }
        let load = RedisCommand("SCRIPT", "LOAD", script.source)
        let reply: RedisReply
        if let connection {
            reply = try await connection.send([load])[0]
            if let message = reply.errorMessage { throw RedisError.reply(message, endpoint: endpointName, command: "SCRIPT LOAD") }
        } else {
            reply = try await send(load)
        }
        guard let sha = reply.string else {
            throw RedisError(.protocolError, endpoint: endpointName, command: "SCRIPT LOAD", message: "no SHA for \(script.name)")
        }
        scriptHashes.withLock { $0[ScriptSource(script)] = sha }
        return sha
    }

    private func evalshaCommand(_ sha: String, keys: [String], arguments: [String]) -> RedisCommand {
        // Sized once: a settle's call has dozens of arguments, and growing the buffers took two reallocations or more.
        let count = String(keys.count)
        var bytes = sha.utf8.count + count.utf8.count
        for key in keys { bytes += key.utf8.count }
        for argument in arguments { bytes += argument.utf8.count }
        var command = RedisCommand("EVALSHA", reservingCapacity: bytes, arguments: 2 + keys.count + arguments.count)
        command.append(sha)
        command.append(count)
        command.append(contentsOf: keys)
        command.append(contentsOf: arguments)
        return command
    }
}

extension RedisClient {
    /// Runs the same script many times in one round trip (e.g. a batch of enqueues), replies in order.
    /// Calls the server had forgotten the script for (`NOSCRIPT`: none of them ran) are sent again once.
    /// Error replies are returned in place, as with ``pipeline(_:)``.
    /// - Parameters:
    ///   - script: the script.
    ///   - calls: the keys and arguments of each call.
    ///   - durable: wait for ``RedisConfiguration/waitReplicas`` replicas (when above 0) after the calls.
    public func pipeline(_ script: RedisScript, calls: [(keys: [String], arguments: [String])], durable: Bool = false) async throws -> [RedisReply] {
        if calls.isEmpty { return [] }
        var sha = try await scriptSHA(script)
        let first = try await exchange(calls.map { evalshaCommand(sha, keys: $0.keys, arguments: $0.arguments) }, durable: durable)
        var replies = first.replies
        let forgotten = replies.indices.filter { replies[$0].errorMessage?.hasPrefix("NOSCRIPT") == true }
        var again: Exchange?
        if !forgotten.isEmpty {
            // Sent again before any `WAIT` verdict, each with its own (RedisClient+Durable).
            sha = try await scriptSHA(script, reload: true)
            let resent = try await exchange(forgotten.map { evalshaCommand(sha, keys: calls[$0].keys, arguments: calls[$0].arguments) }, durable: durable)
            for (index, reply) in zip(forgotten, resent.replies) { replies[index] = reply }
            again = resent
        }
        try judge(first.replication) { first.replies[$0].errorMessage == nil }
        if let again { try judge(again.replication) { again.replies[$0].errorMessage == nil } }
        return replies
    }
}

/// A script's source as a key of the SHA cache, hashed by the hash ``RedisScript`` computed once (equal sources are
/// still compared whole, which is one pointer check for the same script).
private struct ScriptSource: Hashable {
    let script: RedisScript

    init(_ script: RedisScript) {
        self.script = script
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(script.sourceHash)
    }

    static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.script.source == rhs.script.source
    }
}
