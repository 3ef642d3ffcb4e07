import Foundation
import TestSupport
import Testing

@testable import Redis

/// A cluster moving to TLS serves both: `tls-cluster yes` beside a plaintext port. `CLUSTER SHARDS` then lists each node's
/// `port` (plaintext) and `tls-port`; a `rediss-cluster://` client must route to the TLS one, or every command times out
/// in a TLS handshake with the plaintext port.
@Suite struct ClusterTLSTests {
    @Test func aClusterServingTLSBesideAPlaintextPortIsReachedOnItsTLSPort() async throws {
        let certificates = try await TLSCertificates.shared()
        // Two free ports asked one after the other may be the same one (the server's TLS port is its own ask): then the
        // server cannot bind both, and is started again on others. The bus port is given (as ClusterServers does): by
        // default it is the port + 10000, past 65535 for about a fifth of the free ports, and the server exits just
        // after it starts listening.
        var started: (server: RedisServer, plainPort: Int)?
        for _ in 0..<3 where started == nil {
            let plainPort = try RedisServer.freePort()
            let server = try RedisServer(
                arguments: [
                    "--port", String(plainPort), "--tls-cluster", "yes", "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                    "--cluster-port", String(try RedisServer.freePort()),
                ],
                tls: certificates)
            if server.port != plainPort, RedisServer.canConnect(port: plainPort) { started = (server, plainPort) }
        }
        let (server, plainPort) = try #require(started)
        let admin = RedisClient(configuration: try RedisConfiguration(url: "redis://127.0.0.1:\(plainPort)/0"))
        defer { admin.close() }
        try await admin.send("CLUSTER", "ADDSLOTSRANGE", "0", "16383")
        #expect(try await eventually { (try await admin.send("CLUSTER", "INFO").string ?? "").contains("cluster_state:ok") })
        let shards = try await admin.send("CLUSTER", "SHARDS")
        #expect("\(shards)".contains("tls-port"), "the node lists both ports: \(shards)")

        var configuration = try RedisConfiguration(url: "rediss-cluster://localhost:\(server.port)?ca=\(certificates.caFile)")
        configuration.connectTimeout = .seconds(2)
        configuration.reconnectWindow = .seconds(2)
        let redis = RedisClient(configuration: configuration)
        defer { redis.close() }
        try await redis.send("SET", "{q}:greeting", "سلام")
        #expect(try await redis.send("GET", "{q}:greeting").string == "سلام")
        // The parser alone: the TLS port for TLS, the plaintext one otherwise.
        let secure = try #require(ClusterSlotMap.parse(shards: shards, fallbackHost: "127.0.0.1", tls: true))
        let plain = try #require(ClusterSlotMap.parse(shards: shards, fallbackHost: "127.0.0.1"))
        #expect(secure.primary(for: 0) == .tcp(host: "127.0.0.1", port: server.port))
        #expect(plain.primary(for: 0) == .tcp(host: "127.0.0.1", port: plainPort))
    }
}
