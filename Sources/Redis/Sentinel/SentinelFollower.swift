import Logging
import Synchronization

/// Keeps every connection of one ``RedisClient`` on the primary the sentinels name.
///
/// - Each connection asks ``address(for:)`` before it connects: the sentinels are asked then, so a failed connect,
///   a closed socket or a dropped connection all lead to a fresh answer.
/// - The ``SentinelWatcher`` reports each `+switch-master`; the client's code reports a `READONLY` or `MASTERDOWN`
///   refusal (``nodeRefusedWrites()``). Either way every pooled and dedicated connection is dropped
///   (``RedisConnection/dropConnection()``: a blocked read is interrupted too), so none keeps talking to a demoted
///   primary; each reconnects on its next command.
/// - A move is logged once, at notice, whichever path saw it first: `Redis primary moved from A to B (sentinel)`.
///   Addresses only, never credentials.
final class SentinelFollower: Sendable {
    private let resolver: SentinelResolver
    private let watcher = Mutex<SentinelWatcher?>(nil)
    /// The primary last named, nil before the first answer.
    private let known = Mutex<RedisConfiguration.Endpoint?>(nil)
    private let tracked = Mutex<[TrackedConnection]>([])
    private let logger = Logger(label: "hoopoe.redis")

    /// A connection to drop on a switch; weak, so a closed dedicated connection is not kept alive by this list.
    private struct TrackedConnection: @unchecked Sendable {
        weak var connection: RedisConnection?
    }

    init(settings: RedisSentinelSettings, connectTimeout: Duration) {
        resolver = SentinelResolver(settings: settings, timeout: min(connectTimeout, .seconds(1)))
    }

    /// The primary's address, for a connection about to connect (its `address`). Asking the sentinels here, not
    /// once per client, is what makes a reconnect after any failure land on the current primary.
    func address() throws(RedisError) -> RedisConfiguration.Endpoint {
        let primary = try resolver.primary()
        observe(primary)
        return primary
    }

    /// The primary last named (for error messages), or nil before the first answer.
    var knownPrimary: RedisConfiguration.Endpoint? { known.withLock { $0 } }

    /// Adds a connection to those dropped on a switch.
    func track(_ connection: RedisConnection) {
        tracked.withLock { list in
            list.removeAll { $0.connection == nil }
            list.append(TrackedConnection(connection: connection))
        }
    }

    /// Starts listening for `+switch-master` (a thread and one connection to a sentinel).
    func startWatching() {
        let settings = resolver.settings
        let started = SentinelWatcher(settings: settings, timeout: resolver.timeout) { [weak self] primary in self?.observe(primary) }
        watcher.withLock { $0 = started }
    }

    /// Stops listening.
    func stop() {
        watcher.withLock { $0?.stop() }
    }

    /// A node refused a write (`READONLY`, `MASTERDOWN`): it is not the primary (any more). Every connection is
    /// dropped, so the next command of each asks the sentinels again.
    func nodeRefusedWrites() {
        dropAll()
    }

    /// Notes the primary the sentinels named; a change from the one known is a move: logged once, and every
    /// connection dropped.
    private func observe(_ primary: RedisConfiguration.Endpoint) {
        let previous = known.withLock { known -> RedisConfiguration.Endpoint?? in
            defer { known = primary }
            return known == primary ? .none : .some(known)
        }
        guard case .some(.some(let old)) = previous else { return }
        logger.notice("Redis primary moved from \(old) to \(primary) (sentinel)", metadata: ["master": "\(resolver.settings.masterName)"])
        dropAll()
    }

    private func dropAll() {
        let connections = tracked.withLock { list in list.compactMap(\.connection) }
        for connection in connections { connection.dropConnection() }
    }
}
