import Foundation
import Redis
import TestSupport
import Testing

@testable import HoopoeCore

/// The function library on a Redis Cluster: every primary holds it, whatever another primary does.
@Suite struct FunctionLibraryClusterTests {
    /// The map's first primary down, and another primary without the library (restarted without persistence): the
    /// check loads it there, and still says the first failed. It stopped at the first node's error, so services'
    /// `FCALL hoopoe_enqueue` on the restarted node's slots failed for as long as the other stayed down.
    @Test func onePrimaryDownDoesNotKeepTheLibraryOffTheOthers() async throws {
        let own = try await offPool { try ClusterServers() }
        let client = try RedisClient(url: own.url + "?timeout=2")
        defer { client.close() }
        let loader = FunctionLibraryLoader(library: FunctionLibraryTests.engine, redis: client)
        try await loader.ensure()
        let primaries = try await client.primaries()
        let index = { (endpoint: RedisConfiguration.Endpoint) in
            own.nodes.firstIndex { RedisConfiguration.Endpoint.tcp(host: "127.0.0.1", port: $0.port) == endpoint }
        }
        let down = try #require(index(primaries[0]))
        let flushed = try #require(index(primaries[primaries.count - 1]))
        #expect(ClusterServers.cli(port: own.nodes[flushed].port, ["FUNCTION", "FLUSH"]).contains("OK"))
        own.nodes[down].stop()
        await #expect(throws: (any Error).self, "the node that is down is reported") { try await loader.ensure() }
        let listed = ClusterServers.cli(port: own.nodes[flushed].port, ["FUNCTION", "LIST", "LIBRARYNAME", "hoopoe"])
        #expect(listed.contains("hoopoe_enqueue"), "loaded on the restarted primary: \(listed)")
    }
}
