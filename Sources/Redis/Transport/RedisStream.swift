// `timeval` reaches Swift through hiredis's headers (they include <sys/time.h>), so it is CHiredis's to import.
import CHiredis

#if canImport(Glibc)
import Glibc
#endif

/// The byte stream a connection speaks RESP over: a connected socket, with a TLS session on it when configured.
/// Blocking I/O bounded by the socket's timeouts, as decision 0001's thread-per-connection design wants.
/// Connection-thread only, except ``isPlain``, ``sendWithoutWaiting(_:)`` and ``idleIsClean()``, which a caller may use
/// under the connection's lock while the thread is parked (decision 0036), and ``receive(into:waitingAtMost:)``, which
/// a lone caller uses to read its own reply while it owns the connection's reads (decision 0046); ``close()`` once.
final class RedisStream {
    /// The socket, for `poll` and for ``RedisConnection/dropConnection()``'s `shutdown`.
    let fd: Int32
    private let tls: TLSSession?
    private var timeout: Double = -1

    /// Connects, then runs the TLS handshake when `tls` is given.
    /// - Parameters:
    ///   - endpoint: where to connect.
    ///   - connectTimeout: bounds the TCP connect and the TLS handshake each.
    ///   - tls: the TLS context, or nil for plain TCP or a Unix socket.
    init(_ endpoint: RedisConfiguration.Endpoint, connectTimeout: Duration, tls: TLSContext?) throws(TransportFailure) {
        let fd = try SocketConnector.connect(endpoint, timeout: connectTimeout)
        self.fd = fd
        guard let tls else {
            self.tls = nil
            return
        }
        do {
            Self.setTimeout(connectTimeout.seconds, on: fd)
            var host: String?
            if case .tcp(let name, _) = endpoint { host = name }
            self.tls = try TLSSession(fd: fd, host: host, context: tls)
        } catch {
            Glibc.close(fd)
            throw error
        }
    }

    /// No TLS session: bytes can be written from any thread (an `SSL` object cannot be shared between threads).
    var isPlain: Bool { tls == nil }

    /// How long a read (or write) may wait; set only when it changes (one `setsockopt` pair).
    func setTimeout(_ seconds: Double) {
        guard seconds != timeout else { return }
        timeout = seconds
        Self.setTimeout(seconds, on: fd)
    }

    private static func setTimeout(_ seconds: Double, on fd: Int32) {
        let whole = seconds.rounded(.down)
        var value = timeval()
        value.tv_sec = Int(whole)
        value.tv_usec = Int((seconds - whole) * 1_000_000)
        let size = socklen_t(MemoryLayout<timeval>.size)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &value, size)
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &value, size)
    }

    /// Writes all of `bytes` of a buffer (one `send` for a batch that fits the socket buffer).
    func write(_ bytes: [UInt8]) throws(TransportFailure) {
        let failure: TransportFailure? = bytes.withUnsafeBytes { (raw) -> TransportFailure? in
            do throws(TransportFailure) {
                try write(raw)
                return nil
            } catch {
                return error
            }
        }
        if let failure { throw failure }
    }

    /// Writes all of `bytes` (one `send` for a batch that fits the socket buffer).
    func write(_ bytes: UnsafeRawBufferPointer) throws(TransportFailure) {
        if let tls { return try tls.write(bytes) }
        var offset = 0
        while offset < bytes.count {
            let count = send(fd, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            if count < 0 {
                if errno == EINTR { continue }
                throw TransportFailure.errno()
            }
            offset += count
        }
    }

    /// Writes as much of `bytes` as the socket buffer takes now, never waiting: what a caller on Swift's cooperative
    /// pool may do (decision 0001 forbids it to block). Plain sockets only.
    /// - Returns: the bytes written (possibly fewer than asked), or 0 when nothing could be (the buffer is full, or
    ///   the socket failed: the connection's thread finds out which when it takes the request over).
    func sendWithoutWaiting(_ bytes: UnsafeRawBufferPointer) -> Int {
        precondition(tls == nil, "a TLS session is written by the connection's thread only")
        while true {
            let count = send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
            if count >= 0 { return count }
            if errno != EINTR { return 0 }
        }
    }

    /// Reads what has arrived, waiting at most `milliseconds` for the first byte (a `poll`, then a non-blocking
    /// `recv`): what a lone caller on Swift's cooperative pool may do to read its own reply (decision 0046), never
    /// the command's whole timeout. Plain sockets only.
    /// - Returns: the bytes read, or 0 when none came in time or the socket is closed or failed (the connection's
    ///   thread, reading after the caller, finds out which and fails the request as it would have).
    func receive(into buffer: UnsafeMutableRawBufferPointer, waitingAtMost milliseconds: Int32) -> Int {
        precondition(tls == nil, "a TLS session is read by the connection's thread only")
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        while true {
            let ready = poll(&descriptor, 1, milliseconds)
            if ready > 0 { break }
            if ready == 0 || errno != EINTR { return 0 }
        }
        while true {
            let count = recv(fd, buffer.baseAddress, buffer.count, Int32(MSG_DONTWAIT))
            if count >= 0 { return count }
            if errno != EINTR { return 0 }
        }
    }

    /// Reads what has arrived, at least one byte, waiting up to the timeout.
    /// - Throws: `.timedOut`, `.closed` (the server closed the connection), or `.failed`.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(TransportFailure) -> Int {
        if let tls { return try tls.read(into: buffer) }
        while true {
            let count = recv(fd, buffer.baseAddress, buffer.count, 0)
            if count > 0 { return count }
            if count == 0 { throw TransportFailure("connection closed by the server", kind: .closed) }
            if errno == EINTR { continue }
            let failure = TransportFailure.errno()
            throw failure.kind == .timedOut ? failure : TransportFailure(failure.reason, kind: .closed)
        }
    }

    /// True when an idle connection has not been closed by the server. Redis never speaks unasked, so a readable
    /// plain socket means closed (a restart, `CLIENT KILL`, a timeout); under TLS it may be only a session ticket
    /// (see ``TLSSession/idleIsClean(fd:)``).
    func idleIsClean() -> Bool {
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ready = poll(&descriptor, 1, 0)
        if ready == 0 { return true }
        guard let tls, ready > 0, descriptor.revents & Int16(POLLIN) != 0, descriptor.revents & Int16(POLLERR | POLLNVAL) == 0 else { return false }
        return tls.idleIsClean(fd: fd) && { var again = pollfd(fd: fd, events: Int16(POLLIN), revents: 0); return poll(&again, 1, 0) == 0 }()
    }

    /// Ends the TLS session politely (when the socket still works) and closes the socket.
    func close() {
        tls?.shutdown()
        Glibc.close(fd)
    }
}
