#if canImport(Glibc)
import Glibc
#endif

/// Opens the stream socket under a connection: TCP (every address the name resolves to, in order, within one
/// connect timeout) or a Unix socket. The socket comes back blocking, as the connection's thread wants it.
enum SocketConnector {
    /// How long an idle TCP connection waits before the kernel probes it, and the probes' spacing (hiredis's
    /// `REDIS_KEEPALIVE_INTERVAL`, kept): a peer that vanished without a FIN is found within about 30 s.
    static let keepAliveSeconds: Int32 = 15

    /// - Returns: the connected socket's descriptor.
    /// - Throws: the reason in words (`Connection refused`, `Name or service not known`, `Connection timed out`).
    static func connect(_ endpoint: RedisConfiguration.Endpoint, timeout: Duration) throws(TransportFailure) -> Int32 {
        let deadline = ContinuousClock.now + timeout
        switch endpoint {
        case .tcp(let host, let port):
            var hints = addrinfo()
            hints.ai_family = AF_UNSPEC
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            var list: UnsafeMutablePointer<addrinfo>?
            let resolved = getaddrinfo(host, String(port), &hints, &list)
            guard resolved == 0, let list else { throw TransportFailure(String(cString: gai_strerror(resolved))) }
            defer { freeaddrinfo(list) }
            var failure = TransportFailure("no address for \(host)")
            var candidate: UnsafeMutablePointer<addrinfo>? = list
            while let info = candidate {
                candidate = info.pointee.ai_next
                do {
                    let fd = try open(family: info.pointee.ai_family, address: info.pointee.ai_addr, length: info.pointee.ai_addrlen, deadline: deadline)
                    configureTCP(fd)
                    return fd
                } catch {
                    failure = error
                }
            }
            throw failure
        case .unix(let path):
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            let capacity = MemoryLayout.size(ofValue: address.sun_path)
            guard path.utf8.count < capacity else { throw TransportFailure("socket path longer than \(capacity - 1) bytes") }
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                raw.copyBytes(from: path.utf8)
                raw[path.utf8.count] = 0
            }
            return try withUnsafePointer(to: &address) { (pointer) throws(TransportFailure) -> Int32 in
                try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { (socketAddress) throws(TransportFailure) -> Int32 in
                    try open(family: AF_UNIX, address: socketAddress, length: socklen_t(MemoryLayout<sockaddr_un>.size), deadline: deadline)
                }
            }
        }
    }

    /// A non-blocking connect bounded by `deadline`, then back to blocking mode.
    private static func open(family: Int32, address: UnsafePointer<sockaddr>?, length: socklen_t, deadline: ContinuousClock.Instant) throws(TransportFailure) -> Int32 {
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TransportFailure.errno() }
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        if Glibc.connect(fd, address, length) != 0 {
            guard errno == EINPROGRESS else {
                let failure = TransportFailure.errno()
                close(fd)
                throw failure
            }
            var descriptor = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            var ready: Int32 = -1
            repeat {
                let left = deadline - ContinuousClock.now
                let milliseconds = max(0, Int32(clamping: left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000))
                ready = poll(&descriptor, 1, milliseconds)
            } while ready < 0 && errno == EINTR
            if ready == 0 {
                close(fd)
                throw TransportFailure(String(cString: strerror(ETIMEDOUT)))
            }
            var error: Int32 = 0
            var size = socklen_t(MemoryLayout<Int32>.size)
            if ready < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) != 0 || error != 0 {
                let failure = TransportFailure(String(cString: strerror(ready < 0 ? errno : error)))
                close(fd)
                throw failure
            }
        }
        _ = fcntl(fd, F_SETFL, flags & ~O_NONBLOCK)
        return fd
    }

    /// No Nagle delay (a pipelined batch goes out at once) and keep-alive probes (a dead peer is noticed even while
    /// a blocking read waits), as hiredis set them.
    private static func configureTCP(_ fd: Int32) {
        var on: Int32 = 1
        var idle = keepAliveSeconds
        var interval = max(1, keepAliveSeconds / 3)
        var count: Int32 = 3
        let size = socklen_t(MemoryLayout<Int32>.size)
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &on, size)
        _ = setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, size)
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_KEEPIDLE, &idle, size)
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_KEEPINTVL, &interval, size)
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_KEEPCNT, &count, size)
    }
}

/// Why the transport failed, in words; the connection turns it into a ``RedisError`` with the right code.
struct TransportFailure: Error {
    enum Kind { case failed, timedOut, closed, tlsVerification, protocolError }
    let kind: Kind
    let reason: String

    init(_ reason: String, kind: Kind = .failed) {
        self.reason = reason
        self.kind = kind
    }

    /// The current `errno` in words (read first, before anything can overwrite it).
    static func errno() -> TransportFailure {
        let number = Glibc.errno
        if number == EAGAIN || number == EWOULDBLOCK { return TransportFailure("timed out", kind: .timedOut) }
        return TransportFailure(String(cString: strerror(number)))
    }
}
