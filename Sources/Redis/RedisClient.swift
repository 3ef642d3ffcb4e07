import Synchronization

/// A Redis client: a small pool of pipelining connections, safe to share across tasks.
///
/// Every call is `async` and never blocks a cooperative thread: the connections' own threads do the
/// blocking I/O. Concurrent calls are pipelined into shared round trips automatically (see
/// ``RedisConnection``). Commands that block on the server (`BLMOVE`, `XREADGROUP ... BLOCK`) or that
/// need a connection to themselves (`WATCH`, `SUBSCRIBE`) belong on a ``makeDedicatedConnection()``.
public final class RedisClient: Sendable {
    /// The configuration the client was made with.
    public let configuration: RedisConfiguration
    private let connections: [RedisConnection]
    private let nextConnection = Atomic<Int>(0)
    /// Set for a Redis Cluster: routes every call by its keys' slot (`RedisClient+Cluster.swift`).
    let cluster: RedisCluster?
    /// SHA1 of each loaded script, by source.
    private let scriptHashes = Mutex<[String: String]>([:])

    /// Starts the pool's threads. Connections are made on first use.
    public init(configuration: RedisConfiguration) {
        self.configuration = configuration
        cluster = Self.makeCluster(configuration)
        connections = (0..<configuration.poolSize).map {
            RedisConnection(configuration: configuration, name: "hoopoe-redis-\($0)")
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
    @discardableResult
    public func send(_ command: RedisCommand) async throws -> RedisReply {
        let reply = try await roundTrip([command])[0]
        if case .error(let message) = reply {
            throw RedisError.reply(message, endpoint: configuration.endpoint.description, command: command.name)
        }
        return reply
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
    public func pipeline(_ commands: [RedisCommand]) async throws -> [RedisReply] {
        try await roundTrip(commands)
    }

    /// Runs commands atomically in `MULTI`/`EXEC` (one round trip) and returns `EXEC`'s replies.
    /// - Throws: ``RedisError`` `server` when a command was rejected while queueing or `EXEC` failed.
    public func transaction(_ commands: [RedisCommand]) async throws -> [RedisReply] {
        let replies = try await pipeline([RedisCommand("MULTI")] + commands + [RedisCommand("EXEC")])
        if case .error(let message) = replies[0] {
            // MULTI refused (an ACL without @transaction): the commands ran one by one, not atomically; say so.
            throw RedisError.reply(message, endpoint: configuration.endpoint.description, command: "MULTI")
        }
        for (reply, command) in zip(replies.dropFirst(), commands) {
            if case .error(let message) = reply {
                _ = try? await send("DISCARD")
                throw RedisError.reply(message, endpoint: configuration.endpoint.description, command: command.name)
            }
        }
        switch replies.last {
        case .array(let results)?: return results
        case .error(let message)?:
            throw RedisError.reply(message, endpoint: configuration.endpoint.description, command: "EXEC")
        default:
            throw RedisError(.server, endpoint: configuration.endpoint.description, command: "EXEC", message: "transaction aborted")
        }
    }

    /// Runs a Lua script by its SHA, loading it first if needed and once more on `NOSCRIPT`.
    /// - Parameters:
    ///   - script: the script.
    ///   - keys: the keys it touches (`KEYS[...]`); all in one hash slot for Redis Cluster.
    ///   - arguments: its other arguments (`ARGV[...]`).
    /// - Throws: ``RedisError`` `server` with the script's error, naming the script.
    @discardableResult
    public func run(_ script: RedisScript, keys: [String] = [], arguments: [String] = []) async throws -> RedisReply {
        let sha = try await scriptSHA(script)
        var reply = try await roundTrip([evalshaCommand(sha, keys: keys, arguments: arguments)])[0]
        if case .error(let message) = reply, message.hasPrefix("NOSCRIPT") {
            let reloaded = try await scriptSHA(script, reload: true)
            reply = try await roundTrip([evalshaCommand(reloaded, keys: keys, arguments: arguments)])[0]
        }
        if case .error(let message) = reply {
            let refused = message.contains(RedisError.scriptPermissionMarker) ? Self.refusedCommand(message, in: script) : nil
            throw RedisError.reply(
                message, endpoint: configuration.endpoint.description, command: refused.map { "\($0) (in script \(script.name))" } ?? "EVALSHA \(script.name)")
        }
        return reply
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
    public func makeDedicatedConnection(name: String = "hoopoe-redis-dedicated") -> RedisConnection {
        RedisConnection(configuration: configuration, name: name)
    }

    /// Closes every pooled connection after the work already queued.
    public func close() {
        cluster?.close()
        for connection in connections { connection.close() }
    }

    /// One round trip on a pooled connection, or routed per node on a cluster.
    private func roundTrip(_ commands: [RedisCommand]) async throws -> [RedisReply] {
        if let cluster { return try await clusterRoundTrip(commands, on: cluster) }
        return try await connection().send(commands)
    }

    private func connection() -> RedisConnection {
        if connections.count == 1 { return connections[0] }
        let index = nextConnection.wrappingAdd(1, ordering: .relaxed).oldValue
        return connections[index % connections.count]
    }

    /// The script's SHA on the server, loading it when unknown (or when `reload` says the server forgot it).
    private func scriptSHA(_ script: RedisScript, reload: Bool = false) async throws -> String {
        if !reload, let sha = scriptHashes.withLock({ $0[script.source] }) { return sha }
        let reply = try await send(RedisCommand("SCRIPT", "LOAD", script.source))
        guard let sha = reply.string else {
            throw RedisError(.protocolError, endpoint: configuration.endpoint.description, command: "SCRIPT LOAD", message: "no SHA for \(script.name)")
        }
        scriptHashes.withLock { $0[script.source] = sha }
        return sha
    }

    private func evalshaCommand(_ sha: String, keys: [String], arguments: [String]) -> RedisCommand {
        var command = RedisCommand("EVALSHA", sha, String(keys.count))
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
    public func pipeline(_ script: RedisScript, calls: [(keys: [String], arguments: [String])]) async throws -> [RedisReply] {
        if calls.isEmpty { return [] }
        var sha = try await scriptSHA(script)
        var replies = try await pipeline(calls.map { evalshaCommand(sha, keys: $0.keys, arguments: $0.arguments) })
        let forgotten = replies.indices.filter { replies[$0].errorMessage?.hasPrefix("NOSCRIPT") == true }
        if !forgotten.isEmpty {
            sha = try await scriptSHA(script, reload: true)
            let again = try await pipeline(forgotten.map { evalshaCommand(sha, keys: calls[$0].keys, arguments: calls[$0].arguments) })
            for (index, reply) in zip(forgotten, again) { replies[index] = reply }
        }
        return replies
    }
}
