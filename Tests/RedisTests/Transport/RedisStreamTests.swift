import Foundation
@testable import Redis
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The transport under a connection, against real servers: the idle check (decision 0001's "readable means
/// closed") and what TLS 1.3 changes about it (decision 0024).
@Suite struct RedisStreamTests {
    private func readable(_ stream: RedisStream) -> Bool {
        var descriptor = pollfd(fd: stream.fd, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, 0) > 0
    }

    private func roundTrip(_ stream: RedisStream, _ request: String) throws -> String {
        try stream.write(Array(request.utf8))
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 1)
        defer { buffer.deallocate() }
        let count = try stream.read(into: buffer)
        return String(decoding: buffer[0..<count], as: UTF8.self)
    }

    /// Right after the handshake a TLS 1.3 server sends session tickets, unasked: the idle socket is readable, yet
    /// open. The check reads them as TLS records and says clean; the connection then works. After the server closes
    /// it, the check says so.
    @Test func sessionTicketsAreNotAClosedConnection() async throws {
        let certificates = try await TLSCertificates.shared()
        let server = try RedisServer(tls: certificates)
        let stream = try RedisStream(.tcp(host: "localhost", port: server.port), connectTimeout: .seconds(2), tls: TLSContext(RedisTLS(caFile: certificates.caFile)))
        defer { stream.close() }
        stream.setTimeout(2)
        // Polled, not slept for: a loaded machine may deliver the tickets late (or the close, below).
        #expect(try await eventually(timeout: .seconds(10)) { readable(stream) }, "the tickets are waiting (else this test proves nothing)")
        #expect(stream.idleIsClean())
        #expect(!readable(stream), "the tickets were read")
        #expect(try roundTrip(stream, "*1\r\n$4\r\nPING\r\n") == "+PONG\r\n")
        #expect(try roundTrip(stream, "*4\r\n$6\r\nCLIENT\r\n$4\r\nKILL\r\n$6\r\nSKIPME\r\n$2\r\nno\r\n").hasPrefix(":"))  // the count may include the harness's readiness probe
        #expect(try await eventually(timeout: .seconds(10)) { !stream.idleIsClean() })
    }

    @Test func aPlainSocketClosedByTheServerIsNotClean() async throws {
        let server = try RedisServer()
        let stream = try RedisStream(.tcp(host: "127.0.0.1", port: server.port), connectTimeout: .seconds(2), tls: nil)
        defer { stream.close() }
        stream.setTimeout(2)
        #expect(stream.idleIsClean())
        #expect(try roundTrip(stream, "*4\r\n$6\r\nCLIENT\r\n$4\r\nKILL\r\n$6\r\nSKIPME\r\n$2\r\nno\r\n").hasPrefix(":"))  // the count may include the harness's readiness probe
        #expect(try await eventually(timeout: .seconds(10)) { !stream.idleIsClean() })
    }

    @Test func aReadTimesOutAsATimeout() throws {
        let server = try RedisServer()
        let stream = try RedisStream(.tcp(host: "127.0.0.1", port: server.port), connectTimeout: .seconds(2), tls: nil)
        defer { stream.close() }
        stream.setTimeout(0.05)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 16, alignment: 1)
        defer { buffer.deallocate() }
        #expect {
            _ = try stream.read(into: buffer)
        } throws: { error in
            (error as? TransportFailure)?.kind == .timedOut
        }
    }

    /// What an idle connection's caller uses (decision 0036): it takes what the socket buffer holds and returns at
    /// once, never waiting for the rest, even for far more than fits (32 MiB to a server that has not read it).
    @Test func aSendWithoutWaitingTakesWhatFitsAndReturns() throws {
        let server = try RedisServer()
        let stream = try RedisStream(.tcp(host: "127.0.0.1", port: server.port), connectTimeout: .seconds(2), tls: nil)
        defer { stream.close() }
        stream.setTimeout(5)
        let bytes = [UInt8](repeating: UInt8(ascii: "x"), count: 32 << 20)
        let start = ContinuousClock.now
        let written = bytes.withUnsafeBytes { stream.sendWithoutWaiting($0) }
        #expect(ContinuousClock.now - start < .seconds(1))
        #expect(written > 0 && written < bytes.count, "wrote \(written) of \(bytes.count)")
    }

    @Test func aRefusedConnectSaysSo() throws {
        let port = try RedisServer.freePort()
        #expect {
            _ = try RedisStream(.tcp(host: "127.0.0.1", port: port), connectTimeout: .seconds(2), tls: nil)
        } throws: { error in
            (error as? TransportFailure)?.reason == "Connection refused"
        }
    }
}
