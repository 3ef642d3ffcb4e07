import Foundation

/// What the topology report (`hoopoe health-check`, `hoopoe queues`) needs to know beyond one `INFO`: which primary
/// the sentinels name now, and the cluster's slot map as the cluster gives it now.
extension RedisClient {
    /// The primary the sentinels name now, asked afresh of every sentinel (as a reconnect would); nil when the
    /// topology is not Sentinel.
    /// - Throws: ``RedisError`` `connectionFailed` naming each sentinel and why it did not answer.
    public func sentinelPrimary() async throws -> RedisConfiguration.Endpoint? {
        try await sentinelView()?.primary
    }

    /// What the sentinels say, for the health check: the primary they name, how many of the URL's sentinels
    /// answered, each problem (a sentinel that did not answer, one naming another primary, a failover under way), and
    /// whether they could fail the primary over now (`SENTINEL CKQUORUM`). Nil when not in Sentinel mode.
    public func sentinelView() async throws -> SentinelView? {
        guard case .sentinel(let settings) = configuration.topology else { return nil }
        let resolver = SentinelResolver(settings: settings, timeout: min(configuration.connectTimeout, .seconds(1)))
        // The resolver blocks (it runs on a connection's thread when a connection asks): a thread of its own here,
        // never a cooperative one.
        return try await withCheckedThrowingContinuation { continuation in
            Thread {
                BrokenPipeSignal.blockOnThisThread()
                do throws(RedisError) {
                    let answer = try resolver.primary(checkingQuorum: true)
                    continuation.resume(returning: SentinelView(
                        primary: answer.primary, answered: answer.answered, problems: answer.problems, noQuorum: answer.noQuorum))
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

/// What the sentinels said when asked for the primary (``RedisClient/sentinelView()``).
public struct SentinelView: Sendable, Hashable {
    /// The primary they name (the newest configuration's).
    public let primary: RedisConfiguration.Endpoint
    /// How many of the URL's sentinels named a primary.
    public let answered: Int
    /// Each sentinel that did not answer and why, each that named another primary, a failover under way.
    public let problems: [String]
    /// Why the sentinels could not fail the primary over now (`SENTINEL CKQUORUM`'s `NOQUORUM`, from each sentinel that
    /// answered), nil when one of them could or none would say. Asked of the sentinels, who know them all, not counted
    /// from the URL, which may name fewer.
    public let noQuorum: String?
}
