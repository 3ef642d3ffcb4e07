/// One blocking connection to a sentinel, owned by one thread: the resolver's (a ``RedisConnection``'s thread,
/// asking where to connect) or the watcher's (subscribed to `+switch-master`).
///
/// On the project's own transport (``RedisStream``: TCP, or TLS when the URL asks for it, `tls=true` unless
/// `sentinel_tls=false`), so the sentinel links are protected like the data nodes' connections — a sentinel's
/// answer decides where every write goes, and its password is on the wire. Sentinels answer a handful of small
/// commands, rarely: no pipelining, no reconnect logic (a failed link is dropped and the next sentinel asked).
///
/// - Note: not `Sendable`: it never leaves the thread that made it.
final class SentinelLink {
    /// The sentinel, as `host:port`.
    let endpoint: RedisConfiguration.Endpoint
    private let stream: RedisStream
    private let reader: RESPReader
    private let timeout: Duration
    private var encoder = RESPEncoder()
    /// Allocated once the socket is connected (a failed connect, common for a sentinel that is down, allocates nothing).
    private let buffer: UnsafeMutableRawBufferPointer

    /// Connects (with TLS when the settings ask for it) and authenticates (with the sentinels' own user and
    /// password, not the data nodes').
    /// - Throws: ``RedisError`` `connectionFailed` (naming TLS when the handshake or the certificate failed), or
    ///   `authenticationFailed` naming the sentinel user.
    init(_ endpoint: RedisConfiguration.Endpoint, settings: RedisSentinelSettings, timeout: Duration) throws(RedisError) {
        self.endpoint = endpoint
        self.timeout = timeout
        let context: TLSContext?
        do throws(TransportFailure) {
            context = try settings.tls.map { (tls) throws(TransportFailure) in try TLSContext(tls) }
        } catch {
            // A TLS file that cannot be used: trying again cannot mend it.
            throw RedisError(.connectionFailed, endpoint: endpoint.description, message: error.reason, isFinal: true)
        }
        do throws(TransportFailure) {
            stream = try RedisStream(endpoint, connectTimeout: timeout, tls: context)
            reader = try RESPReader()
        } catch {
            let prefix = error.reason.hasPrefix("TLS") ? "" : "cannot connect to the sentinel: "
            throw RedisError(
                .connectionFailed, endpoint: endpoint.description, message: prefix + error.reason, isFinal: error.kind == .tlsVerification)
        }
        buffer = .allocate(byteCount: 16 * 1024, alignment: 1)
        stream.setTimeout(timeout.seconds)
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

    deinit {
        stream.close()
        buffer.deallocate()
    }

    /// Sends one command and reads its reply (an error reply is returned, not thrown).
    func command(_ command: RedisCommand) throws(RedisError) -> RedisReply {
        encoder.reset()
        encoder.append(command)
        do throws(TransportFailure) {
            try encoder.write(to: stream)
        } catch {
            throw failure(error, command.name)
        }
        guard let reply = try next(within: timeout, command: command.name) else {
            throw RedisError(.timeout, endpoint: endpoint.description, command: command.name, message: "the sentinel did not answer within \(timeout)")
        }
        return reply
    }

    /// The next message pushed to a subscribed link, or nil when none came within `wait` (the watcher's way of
    /// noticing it was stopped). A message already read along with an earlier one is returned at once.
    func next(within wait: Duration, command: String = "SUBSCRIBE") throws(RedisError) -> RedisReply? {
        do throws(TransportFailure) {
            while true {
                if let reply = try reader.next() { return reply }
                stream.setTimeout(wait.seconds)
                let count: Int
                do throws(TransportFailure) {
                    count = try stream.read(into: buffer)
                } catch where error.kind == .timedOut {
                    return nil
                }
                try reader.feed(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            }
        } catch {
            throw failure(error, command)
        }
    }

    private func failure(_ error: TransportFailure, _ command: String) -> RedisError {
        RedisError(.connectionLost, endpoint: endpoint.description, command: command, message: error.kind == .closed ? "the sentinel closed the connection" : error.reason)
    }
}
