import Foundation

/// What the topology report (`hoopoe health-check`, `hoopoe queues`) needs to know beyond one `INFO`: which primary
/// the sentinels name now, and the cluster's slot map as the cluster gives it now.
extension RedisClient {
    /// The primary the sentinels name now, asked afresh of every sentinel (as a reconnect would); nil when the
    /// topology is not Sentinel.
    /// - Throws: ``RedisError`` `connectionFailed` naming each sentinel and why it did not answer.
    public func sentinelPrimary() async throws -> RedisConfiguration.Endpoint? {
        guard case .sentinel(let settings) = configuration.topology else { return nil }
        let resolver = SentinelResolver(settings: settings, timeout: min(configuration.connectTimeout, .seconds(1)))
        // The resolver blocks (it runs on a connection's thread when a connection asks): a thread of its own here,
        // never a cooperative one.
        return try await withCheckedThrowingContinuation { continuation in
            Thread {
                do throws(RedisError) {
                    continuation.resume(returning: try resolver.primary().primary)
                } catch {
                    continuation.resume(throwing: error)
                }
            }.start()
        }
    }

    /// The cluster's slot map, asked of the cluster now (not the cached one); nil for one server or Sentinel.
    public func clusterSlotMap() async throws -> ClusterSlotMap? {
        try await cluster?.refresh()
    }
}
