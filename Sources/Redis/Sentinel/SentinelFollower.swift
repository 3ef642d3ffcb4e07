import Logging
import Synchronization

/// Keeps every connection of one ``RedisClient`` on the primary the sentinels name.
///
/// - Each connection asks ``address()`` before it connects: the sentinels are asked then, so a failed connect,
///   a closed socket or a dropped connection all lead to a fresh answer.
/// - The ``SentinelWatcher`` reports each `+switch-master` (and each new subscription); the sentinels are then asked
///   the same way. A move drops every pooled and dedicated connection (``RedisConnection/dropConnection()``: a
///   blocked read is interrupted too), so none keeps talking to a demoted primary; each reconnects on its next
///   command. A connection already on the new primary is kept: each connection asks the sentinels itself before it
///   connects, so one may reach the new primary before the switch is followed (by the watcher's report, or by another
///   connection's answer), and dropping it would fail its commands in flight as lost though they ran.
/// - A `READONLY` or `MASTERDOWN` refusal is not reported here: the connection that read it leaves its node by itself
///   (``RedisConnection``'s `leavesARefusingNode`), and asks the sentinels as it reconnects. Dropping every connection
///   then, as until session 37, could drop one that had reached the new primary meanwhile, its write in flight.
/// - The newest configuration seen is kept: an answer with a lower config epoch than one already followed is stale
///   (the sentinel that gave it has not learned of the failover, or the one that had is unreachable now) and the
///   known primary is used instead — the follower never moves back to a demoted primary on a lagging sentinel's word.
///   Only when every sentinel agrees on an older epoch (sentinels rebuilt from scratch) is it taken.
/// - With no sentinel answering, a connection goes back to the primary last followed (``address()``).
/// - A move is logged once, at notice, whichever path saw it first: `Redis primary moved from A to B (sentinel)`.
///   Addresses only, never credentials.
final class SentinelFollower: Sendable {
    private let resolver: SentinelResolver
    private let watcher = Mutex<SentinelWatcher?>(nil)
    /// The answer followed, nil before the first.
    private let known = Mutex<SentinelResolver.Answer?>(nil)
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
    ///
    /// When no sentinel answers (they restart, or the network to them is down) the primary last followed is used: a
    /// connection that merely dropped (an idle timeout, a blip) must not stall while its primary is well, or the
    /// worker's lease renewals stop and its running jobs are recovered, and run twice, by workers elsewhere. The
    /// connection's `ROLE` check leaves that node if it is no longer the primary. Logged once an outage, at warning.
    func address() throws(RedisError) -> RedisConfiguration.Endpoint {
        let answer: SentinelResolver.Answer
        do {
            answer = try resolver.primary()
        } catch {
            guard error.code == .connectionFailed, let primary = knownPrimary else { throw error }
            if !sentinelsSilent.exchange(true, ordering: .relaxed) {
                logger.warning(
                    "no sentinel answered; connecting to the primary last named, \(primary), until one does",
                    metadata: ["master": "\(resolver.settings.masterName)", "error": "\(error)"])
            }
            return primary
        }
        if sentinelsSilent.exchange(false, ordering: .relaxed) {
            logger.notice("a sentinel answers again", metadata: ["master": "\(resolver.settings.masterName)"])
        }
        return follow(answer)
    }

    /// Whether the last ask found no sentinel answering (for logging the outage once).
    private let sentinelsSilent = Atomic(false)

    /// The primary last named (for error messages), or nil before the first answer.
    var knownPrimary: RedisConfiguration.Endpoint? { known.withLock { $0?.primary } }

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
        let started = SentinelWatcher(settings: settings, timeout: resolver.timeout) { [weak self] in _ = try? self?.address() }
        watcher.withLock { $0 = started }
    }

    /// Stops listening.
    func stop() {
        watcher.withLock { $0?.stop() }
    }

    /// What to do with an answer, given the one followed.
    enum Step: Equatable {
        /// The same primary (or the first answer): nothing changes.
        case stay
        /// A newer (or equally new) configuration names another primary: follow it.
        case move(from: RedisConfiguration.Endpoint)
        /// An older configuration names another primary: ignore it, keep the known one.
        case ignore
    }

    /// The step for `answer` when `known` is followed.
    static func step(known: SentinelResolver.Answer?, answer: SentinelResolver.Answer) -> Step {
        guard let known, known.primary != answer.primary else { return .stay }
        if answer.unanimous || (answer.epoch ?? -1) >= (known.epoch ?? -1) { return .move(from: known.primary) }
        return .ignore
    }

    /// Follows `answer` unless it is stale; returns the primary to connect to. A move is logged once and drops
    /// every connection.
    private func follow(_ answer: SentinelResolver.Answer) -> RedisConfiguration.Endpoint {
        let (step, primary) = known.withLock { known -> (Step, RedisConfiguration.Endpoint) in
            let step = Self.step(known: known, answer: answer)
            switch step {
            case .stay:
                // Keeps the higher epoch of the two (the same primary may be named by a sentinel that lags), unless
                // every sentinel agrees on the lower one.
                if let current = known, (current.epoch ?? -1) > (answer.epoch ?? -1), !answer.unanimous { return (step, current.primary) }
                known = answer
            case .move: known = answer
            case .ignore: break
            }
            return (step, known?.primary ?? answer.primary)
        }
        if case .move(let old) = step {
            logger.notice("Redis primary moved from \(old) to \(primary) (sentinel)", metadata: ["master": "\(resolver.settings.masterName)"])
            dropAll(keeping: primary)
        }
        return primary
    }

    /// Drops every tracked connection but those on `keeping`, the primary moved to.
    private func dropAll(keeping: RedisConfiguration.Endpoint) {
        let connections = tracked.withLock { list in list.compactMap(\.connection) }
        for connection in connections { connection.dropConnection(keeping: keeping) }
    }
}
