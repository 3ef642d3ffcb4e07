import Redis

/// Makes sure a Redis server holds exactly this ``FunctionLibrary``: one `FCALL_RO hoopoe_library_version 0`
/// (a 40-byte answer) to compare, and `FUNCTION LOAD REPLACE` only when the library is absent or another version.
///
/// Why the version function and not `FUNCTION LIST LIBRARYNAME hoopoe WITHCODE`: the list sends the whole code
/// (kilobytes) on every check and needs `FUNCTION LIST` in the ACL; the version call is tiny, is a plain `FCALL_RO`
/// any role that may call functions can make, and gives operators a tag to compare (`hoopoe functions load` prints it).
public struct FunctionLibraryLoader: Sendable {
    public let library: FunctionLibrary
    public let redis: RedisClient

    public init(library: FunctionLibrary, redis: RedisClient) {
        self.library = library
        self.redis = redis
    }

    /// What the server holds.
    public enum Loaded: Sendable, Equatable {
        /// This exact library.
        case current
        /// No library `hoopoe` (a fresh server, or one restarted without persistence, or `FUNCTION FLUSH`).
        case absent
        /// Another Hoopoe's library (an older or newer release), by its version.
        case other(version: String)
    }

    /// What ``ensure()`` did.
    public enum Outcome: Sendable, Equatable {
        /// The library was loaded already; nothing was sent but the check.
        case alreadyLoaded
        /// It was loaded now, over what ``Loaded`` says was there.
        case loaded(over: Loaded)
    }

    /// Which version the server holds.
    /// - Throws: ``FunctionLibraryError/noFunctions`` on a Redis before 7.0; ``RedisError`` otherwise (unreachable,
    ///   the ACL lacks `FCALL_RO`).
    public func loaded() async throws -> Loaded {
        try await loaded(on: nil)
    }

    /// Which version `node` holds (nil: the one server).
    private func loaded(on node: RedisConfiguration.Endpoint?) async throws -> Loaded {
        do {
            let reply = try await call(RedisCommand("FCALL_RO", FunctionLibrary.versionFunction, "0"), on: node)
            guard let version = reply.string else { return .other(version: "\(reply)") }
            return version == library.version ? .current : .other(version: version)
        } catch let error as RedisError where error.code == .server {
            if error.message.contains("Function not found") { return .absent }
            throw FunctionLibraryError.classify(error, endpoint: error.endpoint)
        }
    }

    /// Loads the library unless the server holds exactly it.
    /// - Throws: as ``loaded()``; and ``RedisError`` when `FUNCTION LOAD` is refused (the ACL, or another library
    ///   already defines one of the functions).
    ///
    /// On a Redis Cluster every primary is checked and loaded: a service's `FCALL hoopoe_enqueue` runs on the node
    /// that serves its queue's slot, and a function lives on the node it was loaded on. The outcome is the first
    /// node's that needed a load, else ``Outcome/alreadyLoaded``. A node that fails does not stop the others (one
    /// primary down kept the library off a restarted one for as long as it stayed down); the first failure is thrown
    /// once every node was tried.
    @discardableResult
    public func ensure() async throws -> Outcome {
        guard redis.isCluster else { return try await ensure(on: nil) }
        var outcome = Outcome.alreadyLoaded
        try await onEveryPrimary { node in
            let done = try await ensure(on: node)
            if outcome == .alreadyLoaded { outcome = done }
        }
        return outcome
    }

    /// Runs `body` on each primary of the cluster, each whatever the others did; throws the first failure after all.
    private func onEveryPrimary(_ body: (RedisConfiguration.Endpoint) async throws -> Void) async throws {
        var failure: (any Error)?
        for node in try await redis.primaries() {
            do {
                try await body(node)
            } catch {
                failure = failure ?? error
            }
        }
        if let failure { throw failure }
    }

    private func ensure(on node: RedisConfiguration.Endpoint?) async throws -> Outcome {
        let found = try await loaded(on: node)
        if found == .current { return .alreadyLoaded }
        try await load(on: node)
        return .loaded(over: found)
    }

    /// `FUNCTION LOAD REPLACE` of the library, whatever is there (on a cluster, on every primary).
    public func load() async throws {
        guard redis.isCluster else { return try await load(on: nil) }
        try await onEveryPrimary { try await load(on: $0) }
    }

    private func load(on node: RedisConfiguration.Endpoint?) async throws {
        do {
            _ = try await call(RedisCommand("FUNCTION", "LOAD", "REPLACE", library.code), on: node)
        } catch let error as RedisError where error.code == .server {
            throw FunctionLibraryError.classify(error, endpoint: error.endpoint)
        }
    }

    /// One command on `node` (a cluster's primary), or routed as usual when nil; an error reply is thrown.
    private func call(_ command: RedisCommand, on node: RedisConfiguration.Endpoint?) async throws -> RedisReply {
        guard let node else { return try await redis.send(command) }
        let reply = try await redis.send([command], to: node)[0]
        if let message = reply.errorMessage { throw RedisError.reply(message, endpoint: node.description, command: command.name) }
        return reply
    }
}

/// Why the function library could not be checked or loaded, in an operator's words.
public enum FunctionLibraryError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The server has no functions: they came in Redis 7.0.
    case noFunctions(endpoint: String)

    public var description: String {
        switch self {
        case .noFunctions(let endpoint):
            "Redis \(endpoint) has no functions (FCALL, FUNCTION LOAD): the hoopoe function library needs Redis 7.0 or later. "
                + "Workers run there, but services cannot FCALL hoopoe_enqueue; they may EVALSHA jobs/lua/enqueue.lua instead (jobs/PROTOCOL.md)"
        }
    }

    /// `error` as this type when it says the server lacks functions, else `error` itself.
    static func classify(_ error: RedisError, endpoint: String) -> any Error {
        error.message.lowercased().contains("unknown command") ? Self.noFunctions(endpoint: endpoint) : error
    }
}
