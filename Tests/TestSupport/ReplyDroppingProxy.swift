import Foundation
import Synchronization

/// A TCP relay on loopback in front of a real `redis-server` that can lose one reply: the connection drops after Redis
/// ran a command and before its answer reached the client, as a network fault or a failover's dropped connection does.
/// Everything else passes through unchanged. Tests point a client at ``port`` instead of the server's.
///
/// Armed with ``dropNextReply(toCommand:containing:)``: the next reply that contains `containing`, on a connection whose
/// last bytes from the client contained `toCommand`, is swallowed and both sides of that connection are shut. What it
/// swallowed is kept (``droppedReplies``), so a test can show the reply it meant to lose was lost.
public final class ReplyDroppingProxy: Sendable {
    /// The port clients connect to.
    public let port: Int
    private let listener: Int32
    private let state = Mutex(State())

    private struct State {
        var rule: (command: [UInt8], containing: [UInt8])?
        var dropped: [[UInt8]] = []
        /// The first bytes of each request relayed (the newest 1000): enough to tell which commands went through.
        var requestHeads: [[UInt8]] = []
        var sockets: Set<Int32> = []
        var closed = false
    }

    /// Starts relaying connections to 127.0.0.1:`targetPort`.
    public init(to targetPort: Int) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestSupportError("proxy: no socket") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = Self.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 64) == 0 else {
            Glibc.close(fd)
            throw TestSupportError("proxy: could not listen on loopback")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread { [self] in acceptLoop(targetPort: targetPort) }
    }

    /// Loses the next reply containing `containing` to a command containing `toCommand` (once).
    public func dropNextReply(toCommand: String, containing: String) {
        state.withLock { $0.rule = (Array(toCommand.utf8), Array(containing.utf8)) }
    }

    /// Whether the armed drop has happened (or none was armed).
    public var isDisarmed: Bool { state.withLock { $0.rule == nil } }

    /// How many requests relayed so far contain `text` (among the newest 1000; their first 256 bytes): a test waits
    /// for a client's first command through the proxy (a worker's fetch) instead of a fixed time.
    public func forwarded(containing text: String) -> Int {
        let needle = Array(text.utf8)
        return state.withLock { state in state.requestHeads.filter { Self.contains($0, needle) }.count }
    }

    /// The replies swallowed so far, as text.
    public var droppedReplies: [String] { state.withLock { $0.dropped.map { String(decoding: $0, as: UTF8.self) } } }

    /// Stops accepting and shuts every relayed connection. (Its threads hold it: a test closes it, `defer`.)
    public func close() {
        let first = state.withLock { state in
            if state.closed { return false }
            state.closed = true
            // Under the lock: a relay closes its descriptors under it too, so none shut here was reused meanwhile.
            for fd in state.sockets { _ = shutdown(fd, Int32(SHUT_RDWR)) }
            return true
        }
        guard first else { return }
        _ = shutdown(listener, Int32(SHUT_RDWR))
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    private func acceptLoop(targetPort: Int) {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if state.withLock({ $0.closed }) {
                    Glibc.close(listener)
                    return
                }
                continue
            }
            let server = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = Self.loopback(port: targetPort)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(server, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            let open = state.withLock { state in
                guard !state.closed, connected == 0 else { return false }
                state.sockets.formUnion([client, server])
                return true
            }
            guard open else {
                Glibc.close(client)
                Glibc.close(server)
                continue
            }
            let relay = Relay(client: client, server: server)
            Thread.detachNewThread { [self] in pumpRequests(relay) }
            Thread.detachNewThread { [self] in pumpReplies(relay) }
        }
    }

    /// Client to server, remembering the last bytes sent (the command a reply answers).
    private func pumpRequests(_ relay: Relay) {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = read(relay.client, &buffer, buffer.count)
            if count <= 0 { break }
            let chunk = Array(buffer[0..<count])
            relay.lastRequest.withLock { $0 = chunk }
            state.withLock { state in
                state.requestHeads.append(Array(chunk.prefix(256)))
                if state.requestHeads.count > 1000 { state.requestHeads.removeFirst(state.requestHeads.count - 1000) }
            }
            if !Self.writeAll(relay.server, chunk) { break }
        }
        finish(relay)
    }

    /// Server to client, swallowing the one reply the armed rule names.
    private func pumpReplies(_ relay: Relay) {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = read(relay.server, &buffer, buffer.count)
            if count <= 0 { break }
            let chunk = Array(buffer[0..<count])
            let request = relay.lastRequest.withLock { $0 }
            let drop = state.withLock { state in
                guard let rule = state.rule, Self.contains(request, rule.command), Self.contains(chunk, rule.containing) else { return false }
                state.rule = nil
                state.dropped.append(chunk)
                return true
            }
            if drop || !Self.writeAll(relay.client, chunk) { break }
        }
        finish(relay)
    }

    /// Shuts both sides; the second pump to end closes the descriptors.
    private func finish(_ relay: Relay) {
        _ = shutdown(relay.client, Int32(SHUT_RDWR))
        _ = shutdown(relay.server, Int32(SHUT_RDWR))
        guard relay.ended.add(1, ordering: .sequentiallyConsistent).oldValue == 1 else { return }
        state.withLock { state in
            state.sockets.subtract([relay.client, relay.server])
            Glibc.close(relay.client)
            Glibc.close(relay.server)
        }
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written <= 0 { return false }
            offset += written
        }
        return true
    }

    private static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty else { return true }
        guard haystack.count >= needle.count else { return false }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if haystack[start..<(start + needle.count)].elementsEqual(needle) { return true }
        }
        return false
    }

    private final class Relay: Sendable {
        let client: Int32
        let server: Int32
        let lastRequest = Mutex<[UInt8]>([])
        let ended = Atomic<Int>(0)
        init(client: Int32, server: Int32) {
            self.client = client
            self.server = server
        }
    }
}
