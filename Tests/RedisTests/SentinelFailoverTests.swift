import Foundation
import Redis
import Testing
import TestSupport

/// Sentinel mode against real `redis-sentinel` processes (``SentinelGroup``): the client finds the primary, and
/// follows it when the sentinels move it.
@Suite("Sentinel failover", .serialized)
struct SentinelFailoverTests {
    /// The failure Sentinel mode exists for (issue 13): a client given the primary's own address keeps writing to
    /// it after `SENTINEL FAILOVER`, though it is no longer the primary — and the new primary never sees those writes.
    @Test func aClientOnThePrimarysAddressKeepsWritingToTheDemotedPrimary() async throws {
        let group = try await SentinelGroup()
        let old = group.nodes[0].port
        let client = SentinelGroup.client(port: old)
        defer { client.close() }
        try await client.send("SET", "before", "1")
        let new = try await group.failover()
        #expect(new != old)
        try await client.send("SET", "after", "1")  // accepted: the demoted primary still says it is master
        let onNew = SentinelGroup.client(port: new)
        defer { onNew.close() }
        #expect(try await onNew.send("EXISTS", "after").int == 0)
    }
}
