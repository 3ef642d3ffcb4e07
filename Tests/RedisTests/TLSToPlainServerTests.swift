import Foundation
import Redis
import Synchronization
import TestSupport
import Testing

/// `rediss://` at a plain Redis: the failure says the port may not speak TLS. It said `cannot connect: timed out`.
@Suite struct TLSToPlainServerTests {
    static let hint = "no TLS answer: does this port speak TLS? (redis:// for plain)"

    /// A client with short waits, so the test takes about a second.
    private func quickClient(port: Int) throws -> RedisClient {
        var configuration = try RedisConfiguration(url: "rediss://127.0.0.1:\(port)/0")
        configuration.connectTimeout = .milliseconds(500)
        configuration.reconnectWindow = .milliseconds(500)
        return RedisClient(configuration: configuration)
    }

    /// A plain Redis reads the ClientHello as an inline command and waits for its line end: the handshake times out.
    @Test func aPlainRedisThatSaysNothingIsNamedAsNoTLSAnswer() async throws {
        let server = try RedisServer()
        let redis = try quickClient(port: server.port)
        defer { redis.close() }
        await #expect(performing: { try await redis.send("PING") }, throws: { "\($0)".contains(Self.hint) })
    }

    /// A plain server that answers the ClientHello with `-ERR` (a Redis whose inline parse of it found a line end):
    /// OpenSSL reads a record of no known version.
    @Test func aPlainAnswerIsNamedAsNoTLSAnswer() async throws {
        let answerer = try PlainAnswerer("-ERR unknown command\r\n")
        defer { answerer.close() }
        let redis = try quickClient(port: answerer.port)
        defer { redis.close() }
        await #expect(performing: { try await redis.send("PING") }, throws: { "\($0)".contains(Self.hint) })
    }
}

/// A TCP server on loopback that answers whatever arrives on each connection with one fixed text, then closes it.
private final class PlainAnswerer: Sendable {
    let port: Int
    private let listener: Int32
    private let closed = Atomic<Bool>(false)

    init(_ answer: String) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestSupportError("no socket") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        guard bound == 0, listen(fd, 16) == 0 else {
            Glibc.close(fd)
            throw TestSupportError("could not listen on loopback")
        }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        let bytes = Array(answer.utf8)
        Thread.detachNewThread { [self] in
            while !closed.load(ordering: .relaxed) {
                let client = accept(fd, nil, nil)
                guard client >= 0 else { return }
                var buffer = [UInt8](repeating: 0, count: 4096)
                _ = read(client, &buffer, buffer.count)
                _ = bytes.withUnsafeBytes { write(client, $0.baseAddress, $0.count) }
                Glibc.close(client)
            }
        }
    }

    func close() {
        guard !closed.exchange(true, ordering: .relaxed) else { return }
        _ = shutdown(listener, Int32(SHUT_RDWR))
        Glibc.close(listener)
    }
}
