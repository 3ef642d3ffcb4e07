#if canImport(Glibc)
import Glibc
#endif

/// How a connection's thread waits for work: in `poll` on a pipe that callers signal, and — while a plain
/// socket is idle — on the socket too, so a reply to a request a caller wrote itself wakes the thread directly
/// (decision 0036). A condition variable could not wait on the socket as well.
///
/// - Note: `@unchecked Sendable` is sound: the descriptors are set once, and a pipe's small reads and writes are
///   atomic.
final class ThreadWakeup: @unchecked Sendable {
    /// What ended a ``wait(socket:timeout:)``.
    struct Readiness {
        /// The socket has bytes (a reply), or was closed or shut down.
        var socket = false
        /// Nothing happened within the timeout.
        var timedOut = false
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

    /// Wakes the thread in ``wait(socket:timeout:)`` (or makes its next wait return at once).
    func signal() {
        var one: UInt8 = 1
        _ = Glibc.write(signalFD, &one, 1)
    }

    /// Waits until signalled, until `socket` (when given) is readable or closed, or `timeout` seconds (nil: no limit).
    /// A signal is consumed.
    func wait(socket: Int32?, timeout: Double?) -> Readiness {
        var descriptors = (pollfd(fd: fd, events: Int16(POLLIN), revents: 0), pollfd(fd: socket ?? -1, events: Int16(POLLIN), revents: 0))
        let milliseconds = timeout.map { Int32(clamping: Int(($0 * 1000).rounded(.up))) } ?? -1
        let ready = withUnsafeMutableBytes(of: &descriptors) { raw in
            poll(raw.baseAddress!.assumingMemoryBound(to: pollfd.self), socket == nil ? 1 : 2, milliseconds)
        }
        var readiness = Readiness()
        if ready == 0 {
            readiness.timedOut = true
            return readiness
        }
        if ready < 0 { return readiness }  // EINTR: the caller looks at its state and waits again
        if descriptors.0.revents != 0 {
            var drained: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
            _ = withUnsafeMutableBytes(of: &drained) { Glibc.read(fd, $0.baseAddress, $0.count) }
        }
        readiness.socket = socket != nil && descriptors.1.revents != 0
        return readiness
    }
}
