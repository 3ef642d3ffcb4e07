#if canImport(Glibc)
import Glibc
#endif

/// How a connection's thread waits for work: in `poll` on a pipe that callers signal, and on a plain socket too —
/// for its replies when the thread is to read them (a request handed back by its caller, decision 0046), or only for
/// its closing while it is idle (the server closed it, or ``RedisConnection/dropConnection()`` shut it down), so that
/// a reply a lone caller reads itself does not wake the thread as well. A condition variable could not wait on the
/// socket.
///
/// - Note: `@unchecked Sendable` is sound: the descriptors are set once, and a pipe's small reads and writes are
///   atomic.
final class ThreadWakeup: @unchecked Sendable {
    /// What ended a ``wait(socket:watch:timeout:)``.
    struct Readiness {
        /// The socket has bytes (a reply), or was closed or shut down.
        var socket = false
        /// Nothing happened within the timeout.
        var timedOut = false
        /// `poll` was interrupted by a signal (`EINTR`): nothing is known about the socket.
        var interrupted = false
    }

    /// The pipe's read end (polled and drained by the thread) and write end (signalled), both non-blocking.
    private let fd: Int32
    private let signalFD: Int32

    init() {
        var ends: (Int32, Int32) = (-1, -1)
        let made = withUnsafeMutableBytes(of: &ends) { pipe($0.baseAddress!.assumingMemoryBound(to: Int32.self)) }
        precondition(made == 0, "pipe failed: \(String(cString: strerror(errno)))")
        for end in [ends.0, ends.1] {
            _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK)
            _ = fcntl(end, F_SETFD, FD_CLOEXEC)
        }
        (fd, signalFD) = ends
    }

    deinit {
        Glibc.close(fd)
        Glibc.close(signalFD)
    }

    /// Wakes the thread in ``wait(socket:watch:timeout:)`` (or makes its next wait return at once).
    func signal() {
        var one: UInt8 = 1
        _ = Glibc.write(signalFD, &one, 1)
    }

    /// What the thread waits for on the socket.
    enum SocketWatch {
        /// Bytes to read (or the socket closed).
        case replies
        /// Only the peer closing or the socket failing (`POLLRDHUP`, `POLLHUP`, `POLLERR`): bytes arriving do not end
        /// the wait.
        case closing
    }

    /// `POLLRDHUP` (Linux: the peer shut its side down), which Glibc's Swift module does not export (`_GNU_SOURCE`).
    private static let peerClosed = Int16(0x2000)

    /// Waits until signalled, until `socket` (when given) is ready as `watch` says, or `timeout` seconds (nil: no
    /// limit). A signal is consumed.
    func wait(socket: Int32?, watch: SocketWatch = .replies, timeout: Double?) -> Readiness {
        let events = watch == .replies ? Int16(POLLIN) : Self.peerClosed
        var descriptors = (pollfd(fd: fd, events: Int16(POLLIN), revents: 0), pollfd(fd: socket ?? -1, events: events, revents: 0))
        let milliseconds = timeout.map { Int32(clamping: Int(($0 * 1000).rounded(.up))) } ?? -1
        let ready = withUnsafeMutableBytes(of: &descriptors) { raw in
            poll(raw.baseAddress!.assumingMemoryBound(to: pollfd.self), socket == nil ? 1 : 2, milliseconds)
        }
        var readiness = Readiness()
        if ready == 0 {
            readiness.timedOut = true
            return readiness
        }
        if ready < 0 {  // EINTR: the caller looks at its state and waits again
            readiness.interrupted = true
            return readiness
        }
        if descriptors.0.revents != 0 {
            var drained: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
            _ = withUnsafeMutableBytes(of: &drained) { Glibc.read(fd, $0.baseAddress, $0.count) }
        }
        readiness.socket = socket != nil && descriptors.1.revents != 0
        return readiness
    }
}
