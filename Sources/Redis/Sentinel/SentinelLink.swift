import CHiredis

#if canImport(Glibc)
import Glibc
#endif

/// One blocking connection to a sentinel, owned by one thread: the resolver's (a ``RedisConnection``'s thread,
/// asking where to connect) or the watcher's (subscribed to `+switch-master`).
///
/// Sentinels answer a handful of small commands, rarely, so a plain blocking hiredis connection is enough: no
/// pipelining, no reconnect logic (a failed link is dropped and the next sentinel asked).
///
/// - Note: not `Sendable`: the hiredis context never leaves the thread that made the link.
final class SentinelLink {
    /// The sentinel, as `host:port`.
    let endpoint: RedisConfiguration.Endpoint
    private let context: UnsafeMutablePointer<redisContext>

    /// Connects and authenticates (with the sentinels' own user and password, not the data nodes').
    /// - Throws: ``RedisError`` `connectionFailed`, or `authenticationFailed` naming the sentinel user.
    init(_ endpoint: RedisConfiguration.Endpoint, settings: RedisSentinelSettings, timeout: Duration) throws(RedisError) {
        self.endpoint = endpoint
        if settings.tls != nil {
            // Said plainly rather than tried in the clear: the sentinel link has no TLS yet (decision 0025).
            throw RedisError(
                .connectionFailed, endpoint: endpoint.description,
                message: "TLS to the sentinels is not supported yet: add sentinel_tls=false to the URL (tls=true still applies to the data nodes)")
        }
        let limit = timeval(timeout)
        let made: UnsafeMutablePointer<redisContext>? =
            switch endpoint {
            case .tcp(let host, let port): redisConnectWithTimeout(host, Int32(port), limit)
            case .unix(let path): redisConnectUnixWithTimeout(path, limit)
            }
        guard let made else { throw RedisError(.connectionFailed, endpoint: endpoint.description, message: "out of memory") }
        if chiredis_err(made) != 0 {
            let reason = String(cString: chiredis_errstr(made))
            redisFree(made)
            throw RedisError(.connectionFailed, endpoint: endpoint.description, message: "cannot connect to the sentinel: \(reason)")
        }
        context = made
        _ = redisSetTimeout(made, limit)
        if let password = settings.password {
            var auth = RedisCommand("AUTH")
            if let username = settings.username { auth.append(username) }
            auth.append(password)
            if case .error(let reason) = try command(auth) {
                throw RedisError(
                    .authenticationFailed, endpoint: endpoint.description, command: "AUTH",
                    message: "authentication to the sentinel as user '\(settings.username ?? "default")' failed: \(reason)")
            }
        }
    }

    deinit { redisFree(context) }

    /// The socket, for `poll` (the watcher waits on it with a timeout so it can notice it was stopped).
    var socket: Int32 { chiredis_fd(context) }

    /// Sends one command and reads its reply (an error reply is returned, not thrown).
    func command(_ command: RedisCommand) throws(RedisError) -> RedisReply {
        let arguments = command.arguments
        // hiredis copies the arguments into its output buffer during the call; each copy lives until then.
        let copies: [UnsafeMutablePointer<CChar>] = arguments.map { bytes in
            let copy = UnsafeMutablePointer<CChar>.allocate(capacity: max(1, bytes.count))
            bytes.withUnsafeBufferPointer { buffer in
                if let base = buffer.baseAddress { UnsafeMutableRawPointer(copy).copyMemory(from: base, byteCount: bytes.count) }
            }
            return copy
        }
        defer { for copy in copies { copy.deallocate() } }
        var argv: [UnsafePointer<CChar>?] = copies.map { UnsafePointer($0) }
        let lengths = arguments.map(\.count)
        let raw = argv.withUnsafeMutableBufferPointer { argv in
            lengths.withUnsafeBufferPointer { lengths in
                redisCommandArgv(context, Int32(argv.count), argv.baseAddress, lengths.baseAddress)
            }
        }
        guard let raw else { throw failure(command.name) }
        defer { freeReplyObject(raw) }
        return RedisReply(copying: raw.assumingMemoryBound(to: redisReply.self))
    }

    /// Reads the next message pushed to a subscribed connection.
    func read() throws(RedisError) -> RedisReply {
        var raw: UnsafeMutableRawPointer?
        guard redisGetReply(context, &raw) == REDIS_OK, let raw else { throw failure("SUBSCRIBE") }
        defer { freeReplyObject(raw) }
        return RedisReply(copying: raw.assumingMemoryBound(to: redisReply.self))
    }

    private func failure(_ command: String) -> RedisError {
        let reason = String(cString: chiredis_errstr(context))
        return RedisError(.connectionLost, endpoint: endpoint.description, command: command, message: reason.isEmpty ? "the sentinel closed the connection" : reason)
    }
}

extension timeval {
    fileprivate init(_ duration: Duration) {
        let seconds = duration.seconds
        let whole = seconds.rounded(.down)
        self.init(tv_sec: Int(whole), tv_usec: Int((seconds - whole) * 1_000_000))
    }
}
