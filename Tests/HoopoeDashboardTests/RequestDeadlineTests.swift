import Foundation
import Glibc
import HoopoeDashboard
import Hummingbird
import Synchronization
import Testing

/// The dashboard's real server, over a socket: a request must arrive whole within the request limit, however steadily
/// its sender trickles it (``RequestDeadline``); the idle timeout alone restarted at every byte, so a client sending a
/// body a byte at a time held its connection, and 256 of them, for ever.
@Suite struct RequestDeadlineTests {
    /// A dashboard listening on a free loopback port with a 2 s request limit, for the time `body` runs.
    private func withServer(_ body: @Sendable (Int) async throws -> Void) async throws {
        let harness = try DashboardHarness()
        let bound = Mutex<Int?>(nil)
        let application = harness.dashboard.application(host: "127.0.0.1", port: 0, requestLimit: .seconds(2)) { port in
            bound.withLock { $0 = port }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await application.runService() }
            var port: Int?
            for _ in 0..<200 where port == nil {
                port = bound.withLock { $0 }
                if port == nil { try await Task.sleep(for: .milliseconds(25)) }
            }
            try await body(try #require(port, "the dashboard did not start listening"))
            group.cancelAll()
        }
    }

    @Test func aBodyTrickledAByteAtATimeIsCutOffAtTheLimit() async throws {
        try await withServer { port in
            let socket = try TestSocket(port: port)
            defer { socket.close() }
            try socket.send("POST /dead/action HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\n")
            let after = try #require(await socket.closedWhileTrickling(), "still open after 8 s of a byte every 250 ms")
            #expect(after >= .seconds(1) && after < .seconds(5), "closed after \(after)")
        }
    }

    /// A request refused before its body came (a foreign Host: 403 at once), its body then sent, leaves the next request
    /// on the connection under the limit too: the refused request's end disarmed the deadline after the refusal had
    /// armed it, and a second request trickled for ever.
    @Test func theRequestAfterOneRefusedBeforeItsBodyIsCutOffToo() async throws {
        try await withServer { port in
            let socket = try TestSocket(port: port)
            defer { socket.close() }
            try socket.send("POST /dead/action HTTP/1.1\r\nHost: evil.example\r\nContent-Length: 5\r\n\r\n")
            let refused = try await socket.read(timeout: .seconds(3))
            #expect(refused.hasPrefix("HTTP/1.1 403"), "\(refused.prefix(200))")
            try socket.send("a=b&c")
            try await Task.sleep(for: .milliseconds(200))
            try socket.send("POST /dead/action HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\n")
            let after = try #require(await socket.closedWhileTrickling(), "still open after 8 s of a byte every 250 ms")
            #expect(after >= .milliseconds(800) && after < .seconds(5), "closed after \(after): by the deadline, not at the refusal")
        }
    }

    /// A request that arrives whole is answered, though half the limit passed on the open connection before it came.
    @Test func aWholeRequestIsAnswered() async throws {
        try await withServer { port in
            // Half the limit spent before the request: the limit is per request. A loaded machine can stretch the 1 s
            // sleep past the whole limit (the connection is then rightly closed, an empty reply): such a round proves
            // nothing and is made again, up to three times.
            for _ in 0..<3 {
                let socket = try TestSocket(port: port)
                defer { socket.close() }
                let opened = ContinuousClock.now
                try await Task.sleep(for: .seconds(1))
                guard ContinuousClock.now - opened < .milliseconds(1700) else { continue }
                try socket.send("GET /favicon.ico HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                let reply = try await socket.read(timeout: .seconds(5))
                #expect(reply.hasPrefix("HTTP/1.1 200"), "\(reply.prefix(200))")
                return
            }
            Issue.record("three sleeps of 1 s each lasted past 1.7 s: the machine too loaded to tell")
        }
    }
}

/// A blocking loopback TCP client, just enough to trickle bytes and see the server close.
private struct TestSocket: Sendable {
    /// How long the server took to close the connection while a byte was sent every 250 ms; nil when it was still open
    /// after 8 s.
    ///
    /// Watched from a thread of its own, blocked in `poll` between the bytes, so the close is seen when it comes. A task
    /// that slept 250 ms on the cooperative pool between looks saw it only when the pool next ran it: on a loaded machine
    /// a close at 2 s was seen past the 5 s the tests allow.
    ///
    /// Timed from the call, not from the thread's start: a thread started late on a loaded machine measured from its own
    /// start a close that came early (a test's lower bound, "by the deadline, not at the refusal", failed at < 800 ms).
    func closedWhileTrickling() async -> Duration? {
        let started = ContinuousClock.now
        return await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: trickleUntilClosed(since: started)) }.start()
        }
    }

    /// ``closedWhileTrickling()``'s loop, blocking its thread.
    private func trickleUntilClosed(since started: ContinuousClock.Instant) -> Duration? {
        var nextByte = started
        while ContinuousClock.now - started < .seconds(8) {
            if isClosed() { return ContinuousClock.now - started }
            if ContinuousClock.now >= nextByte {
                try? send("a")
                nextByte = ContinuousClock.now + .milliseconds(250)
            }
            // Wakes at once when the server closes (end of file or reset); else when the next byte is due.
            let wait = (nextByte - ContinuousClock.now).components
            let milliseconds = max(0, wait.seconds * 1000 + wait.attoseconds / 1_000_000_000_000_000 + 1)
            var watched = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            _ = poll(&watched, 1, Int32(clamping: milliseconds))
        }
        return nil
    }

    let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .ECONNREFUSED) }
    }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        let sent = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard sent == bytes.count else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EPIPE) }
    }

    /// True once the server has closed its side (end of file, or a reset).
    func isClosed() -> Bool {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if count == 0 { return true }
            if count < 0 { return errno != EAGAIN && errno != EWOULDBLOCK }
        }
    }

    /// What arrives within `timeout` (until the server closes or the time is up).
    func read(timeout: Duration) async throws -> String {
        var received: [UInt8] = []
        let deadline = ContinuousClock.now + timeout
        var buffer = [UInt8](repeating: 0, count: 4096)
        while ContinuousClock.now < deadline {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if count > 0 {
                received += buffer[0..<count]
                if String(decoding: received, as: UTF8.self).contains("\r\n\r\n") { break }
            } else if count == 0 {
                break
            } else {
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        return String(decoding: received, as: UTF8.self)
    }

    func close() { _ = Glibc.close(fd) }
}
