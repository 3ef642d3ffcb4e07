import Foundation
@testable import Redis
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The connection thread's parking place (decision 0036): a signal, a readable socket and the timeout each end a
/// wait, and each says which it was.
@Suite struct ThreadWakeupTests {
    /// Close-on-exec: a child process another suite spawns meanwhile must not inherit an end. A child holding the peer
    /// end kept the socket open after this test closed it, and the wait for the close timed out (`make test`, twice).
    static let streamType = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)

    @Test func aSignalEndsTheWaitAtOnceAndIsConsumed() {
        let wakeup = ThreadWakeup()
        wakeup.signal()
        let start = ContinuousClock.now
        let first = wakeup.wait(socket: nil, timeout: 5)
        #expect(!first.timedOut && !first.socket)
        #expect(ContinuousClock.now - start < .seconds(1))
        let second = wakeup.wait(socket: nil, timeout: 0.05)
        #expect(second.timedOut, "the signal was consumed by the first wait")
    }

    @Test func aSignalFromAnotherThreadWakesAWaiter() async {
        let wakeup = ThreadWakeup()
        let waiter = Task.detached { wakeup.wait(socket: nil, timeout: 10) }
        try? await Task.sleep(for: .milliseconds(50))
        wakeup.signal()
        let readiness = await waiter.value
        #expect(!readiness.timedOut)
    }

    @Test func aReadableSocketEndsTheWaitNamingTheSocket() {
        var ends: [Int32] = [-1, -1]
        #expect(socketpair(AF_UNIX, Self.streamType, 0, &ends) == 0)
        defer { ends.forEach { _ = close($0) } }
        let wakeup = ThreadWakeup()
        #expect(wakeup.wait(socket: ends[0], timeout: 0.05).timedOut, "nothing to read yet")
        var byte: UInt8 = 1
        _ = write(ends[1], &byte, 1)
        let readiness = wakeup.wait(socket: ends[0], timeout: 5)
        #expect(readiness.socket && !readiness.timedOut)
    }

    /// Watching an idle socket for its closing only (decision 0046): bytes arriving (a reply its caller reads) do not
    /// end the wait; the peer closing does.
    @Test func watchingForClosingIgnoresBytesButNotTheClose() {
        var ends: [Int32] = [-1, -1]
        #expect(socketpair(AF_UNIX, Self.streamType, 0, &ends) == 0)
        defer { _ = close(ends[0]) }
        let wakeup = ThreadWakeup()
        var byte: UInt8 = 1
        _ = write(ends[1], &byte, 1)
        #expect(wakeup.wait(socket: ends[0], watch: .closing, timeout: 0.05).timedOut, "a byte is not a close")
        _ = close(ends[1])
        let readiness = wakeup.wait(socket: ends[0], watch: .closing, timeout: 5)
        #expect(readiness.socket && !readiness.timedOut)
    }
}
