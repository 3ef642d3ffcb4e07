import CHiredis
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// One connection to Redis, with its own thread.
///
/// hiredis's synchronous API blocks the calling thread on every read. Running it on Swift's cooperative
/// pool (one thread per core) would let two slow replies stall every task of the process, so each
/// connection owns one plain OS thread and callers hand it work through a queue, then `await`.
///
/// The queue is also what makes the client fast: the thread takes *everything* queued since its last
/// round trip, writes all of it, then reads all replies. Concurrent callers are pipelined into one
/// round trip without asking for it (auto-pipelining), and an explicit pipeline is one request.
///
/// Before each batch the thread checks that an idle socket has nothing to read: Redis never speaks
/// unasked, so readable means the server closed it (a restart, `CLIENT KILL`, a timeout). The thread
/// then reconnects first, so the first command after a Redis restart succeeds instead of failing.
///
/// - Note: `@unchecked Sendable` is sound because the mutable state has exactly two owners:
///   `queue` and `isClosed` are only touched while holding `condition`, and `context` (the hiredis
///   pointer) and `readTimeout` are only touched on this connection's own thread. No C pointer ever
///   leaves that thread: replies are copied into ``RedisReply`` values and freed there.
public final class RedisConnection: @unchecked Sendable {
    /// Work for the thread: commands and who to tell.
    private struct Request {
        let commands: [RedisCommand]
        let completion: @Sendable (Result<[RedisReply], RedisError>) -> Void
    }

    /// The server and its options.
    public let configuration: RedisConfiguration
    /// Where to connect, asked on the connection's thread before every (re)connect (Sentinel's current primary,
    /// a cluster node); by default the configuration's endpoint.
    private let address: @Sendable () throws(RedisError) -> RedisConfiguration.Endpoint
    private var endpoint: String  // connection thread only, except at init
    private let condition = NSCondition()
    private var queue: [Request] = []  // guarded by condition
    private var isClosed = false  // guarded by condition
    private var dropRequested = false  // guarded by condition
    private var liveSocket: Int32 = -1  // guarded by condition: the socket dropConnection() shuts down
    private var context: UnsafeMutablePointer<redisContext>?  // connection thread only
    private var readTimeout: Double = -1  // connection thread only

    /// Starts the connection's thread. It connects on the first command, not here, so building a
    /// client never fails and a process can start before Redis does. The thread (and this object)
    /// lives until ``close()``.
    /// - Parameters:
    ///   - configuration: where and how to connect.
    ///   - name: the thread's name, seen in debuggers and `top -H`.
    ///   - address: where to connect, asked on the connection's thread before every connect and reconnect; its
    ///     error fails the batch (within the reconnect window, it is asked again with backoff).
    public init(
        configuration: RedisConfiguration, name: String = "hoopoe-redis",
        address: (@Sendable () throws(RedisError) -> RedisConfiguration.Endpoint)? = nil
    ) {
        self.configuration = configuration
        self.endpoint = configuration.endpoint.description
        let fixed = configuration.endpoint
        self.address = address ?? { fixed }
        let thread = Thread { [self] in self.runLoop() }
        thread.name = name
        thread.start()
    }

    /// Sends commands in one round trip and returns their replies in order.
    ///
    /// Error replies (`-ERR ...`) come back in place as `.error`, so one failing command does not hide
    /// the others. A transport failure throws for the whole batch.
    /// - Throws: ``RedisError`` (`connectionFailed`, `connectionLost`, `timeout`, `closed`, ...).
    public func send(_ commands: [RedisCommand]) async throws -> [RedisReply] {
        if commands.isEmpty { return [] }
        return try await withUnsafeThrowingContinuation { continuation in
            enqueue(Request(commands: commands) { continuation.resume(with: $0) })
        }
    }

    /// Stops the thread after the work already queued; later calls fail with `closed`.
    public func close() {
        condition.lock()
        isClosed = true
        condition.signal()
        condition.unlock()
    }

    /// Closes the connection so the next batch connects afresh, asking `address` again (a failover moved the
    /// primary). Thread-safe. A read in progress (a batch in flight, a blocking `XREADGROUP`) is interrupted: its
    /// commands fail with `connectionLost` (they may have run).
    public func dropConnection() {
        condition.lock()
        dropRequested = true
        if liveSocket >= 0 { _ = shutdown(liveSocket, Int32(SHUT_RDWR)) }
        condition.unlock()
    }

    private func enqueue(_ request: Request) {
        condition.lock()
        if isClosed {
            condition.unlock()
            request.completion(.failure(RedisError(.closed, endpoint: configuration.endpoint.description, command: request.commands.first?.name, message: "the client was closed")))
            return
        }
        queue.append(request)
        if queue.count == 1 { condition.signal() }
        condition.unlock()
    }

    // MARK: - The connection's thread

    private func runLoop() {
        while let batch = nextBatch() {
            execute(batch)
        }
        disconnect()
    }

    /// Waits for work; returns all of it at once, or nil once closed and drained.
    private func nextBatch() -> [Request]? {
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty && !isClosed { condition.wait() }
        if queue.isEmpty { return nil }
        let batch = queue
        queue.removeAll(keepingCapacity: true)
        if dropRequested {
            dropRequested = false
            batchStartsDropped = true
        }
        return batch
    }

    private var batchStartsDropped = false  // connection thread only

    private func execute(_ batch: [Request]) {
        if batchStartsDropped {
            batchStartsDropped = false
            disconnect()
        }
        if context != nil && !idleSocketIsClean() { disconnect() }
        if context == nil {
            do {
                try connectWithBackoff()
            } catch {
                for request in batch { request.completion(.failure(error.naming(request.commands.first?.name))) }
                return
            }
        }
        guard let context else { return }
        let blocking = batch.lazy.flatMap(\.commands).map(\.blockingSeconds).max() ?? 0
        setReadTimeout(configuration.commandTimeout.seconds + blocking)
        for request in batch {
            for command in request.commands where !append(command, to: context) {
                let error = RedisError(.protocolError, endpoint: endpoint, command: command.name, message: "could not buffer the command (out of memory)")
                disconnect()
                for request in batch { request.completion(.failure(error)) }
                return
            }
        }
        for (position, request) in batch.enumerated() {
            var replies: [RedisReply] = []
            replies.reserveCapacity(request.commands.count)
            for command in request.commands {
                var raw: UnsafeMutableRawPointer?
                guard redisGetReply(context, &raw) == REDIS_OK, let raw else {
                    let error = transportError(context, command: command.name)
                    disconnect()
                    request.completion(.failure(error))
                    for rest in batch[(position + 1)...] { rest.completion(.failure(error.naming(rest.commands.first?.name))) }
                    return
                }
                replies.append(RedisReply(copying: raw.assumingMemoryBound(to: redisReply.self)))
                freeReplyObject(raw)
            }
            request.completion(.success(replies))
        }
    }

    /// Copies a command into hiredis's output buffer (nothing is written to the socket yet).
    private func append(_ command: RedisCommand, to context: UnsafeMutablePointer<redisContext>) -> Bool {
        command.buffer.withUnsafeBufferPointer { buffer in
            // Every command has a non-empty name, so the buffer has a base address.
            guard let base = buffer.baseAddress else { return false }
            var pointers: [UnsafePointer<CChar>?] = []
            pointers.reserveCapacity(command.lengths.count)
            var offset = 0
            for length in command.lengths {
                pointers.append(UnsafeRawPointer(base + offset).assumingMemoryBound(to: CChar.self))
                offset += length
            }
            return command.lengths.withUnsafeBufferPointer { lengths in
                pointers.withUnsafeMutableBufferPointer { argv in
                    redisAppendCommandArgv(context, Int32(argv.count), argv.baseAddress, lengths.baseAddress) == REDIS_OK
                }
            }
        }
    }

    /// True when an idle connection has nothing to read, i.e. the server has not closed it.
    private func idleSocketIsClean() -> Bool {
        guard let context else { return false }
        var descriptor = pollfd(fd: chiredis_fd(context), events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, 0) == 0
    }

    private func connectWithBackoff() throws(RedisError) {
        let deadline = ContinuousClock.now + configuration.reconnectWindow
        var delay = Duration.milliseconds(25)
        while true {
            do {
                try connect()
                return
            } catch where error.code == .authenticationFailed || error.code == .badDatabase {
                throw error  // retrying cannot help
            } catch {
                if ContinuousClock.now + delay > deadline { throw error }
                Thread.sleep(forTimeInterval: delay.seconds)
                delay = min(delay * 2, .milliseconds(500))
            }
        }
    }

    private func connect() throws(RedisError) {
        let target = try address()
        endpoint = target.description
        if configuration.tls != nil {
            // Never send AUTH in the clear to a server that was asked for TLS.
            throw RedisError(.authenticationFailed, endpoint: endpoint, message: "TLS is not implemented yet in this build")
        }
        let timeout = timeval(configuration.connectTimeout.seconds)
        let made: UnsafeMutablePointer<redisContext>? =
            switch target {
            case .tcp(let host, let port): redisConnectWithTimeout(host, Int32(port), timeout)
            case .unix(let path): redisConnectUnixWithTimeout(path, timeout)
            }
        guard let made else { throw RedisError(.connectionFailed, endpoint: endpoint, message: "out of memory") }
        if chiredis_err(made) != 0 {
            let reason = String(cString: chiredis_errstr(made))
            redisFree(made)
            throw RedisError(.connectionFailed, endpoint: endpoint, message: "cannot connect: \(reason)")
        }
        if case .tcp = target {
            // TCP only: on a Unix socket the keep-alive options fail and leave an error on the context.
            _ = redisEnableKeepAlive(made)
        }
        context = made
        condition.lock()
        liveSocket = chiredis_fd(made)
        condition.unlock()
        readTimeout = -1
        setReadTimeout(configuration.commandTimeout.seconds)
        if let password = configuration.password {
            var auth = RedisCommand("AUTH")
            if let username = configuration.username { auth.append(username) }
            auth.append(password)
            let who = "user '\(configuration.username ?? "default")'"
            try handshake(auth, refused: "authentication as \(who) failed")
        }
        if configuration.database != 0 {
            try handshake(
                RedisCommand("SELECT", String(configuration.database)), refused: "database \(configuration.database) (from the URL) does not exist on this server",
                code: .badDatabase)
        }
    }

    /// One command on a fresh connection, during connect. A refusal closes the connection and throws `code`
    /// (`authenticationFailed` for AUTH, `badDatabase` for SELECT) with `refused` and the server's reason (which
    /// never echoes the password).
    private func handshake(_ command: RedisCommand, refused: String, code: RedisError.Code = .authenticationFailed) throws(RedisError) {
        guard let context, append(command, to: context) else { throw RedisError(.connectionFailed, endpoint: endpoint, message: "no connection") }
        var raw: UnsafeMutableRawPointer?
        guard redisGetReply(context, &raw) == REDIS_OK, let raw else {
            let error = transportError(context, command: command.name)
            disconnect()
            throw RedisError(.connectionFailed, endpoint: endpoint, command: command.name, message: error.message)
        }
        let reply = RedisReply(copying: raw.assumingMemoryBound(to: redisReply.self))
        freeReplyObject(raw)
        if case .error(let reason) = reply {
            disconnect()
            throw RedisError(code, endpoint: endpoint, command: command.name, message: "\(refused): \(reason)")
        }
    }

    private func setReadTimeout(_ seconds: Double) {
        guard let context, seconds != readTimeout else { return }
        readTimeout = seconds
        _ = redisSetTimeout(context, timeval(seconds))
    }

    /// Turns hiredis's error state into a ``RedisError``. Reads `errno` first, before anything else can
    /// overwrite it: hiredis reports a socket timeout as a plain I/O error with `EAGAIN`.
    private func transportError(_ context: UnsafeMutablePointer<redisContext>, command: String) -> RedisError {
        let number = errno
        let kind = chiredis_err(context)
        let reason = String(cString: chiredis_errstr(context))
        if kind == REDIS_ERR_IO && (number == EAGAIN || number == EWOULDBLOCK) {
            return RedisError(.timeout, endpoint: endpoint, command: command, message: "no reply within \(readTimeout) s")
        }
        if kind == REDIS_ERR_PROTOCOL {
            return RedisError(.protocolError, endpoint: endpoint, command: command, message: reason)
        }
        return RedisError(.connectionLost, endpoint: endpoint, command: command, message: reason.isEmpty ? "connection closed" : reason)
    }

    private func disconnect() {
        guard let made = context else { return }
        condition.lock()
        liveSocket = -1
        condition.unlock()
        redisFree(made)
        context = nil
    }
}

extension RedisError {
    /// The same failure, reported against another command of the same batch.
    fileprivate func naming(_ other: String?) -> RedisError {
        RedisError(code, endpoint: endpoint, command: other ?? command, message: message)
    }
}

extension timeval {
    fileprivate init(_ seconds: Double) {
        let whole = seconds.rounded(.down)
        self.init(tv_sec: Int(whole), tv_usec: Int((seconds - whole) * 1_000_000))
    }
}

extension Duration {
    /// The duration in seconds, as a `Double`.
    var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) / 1e18
    }
}
