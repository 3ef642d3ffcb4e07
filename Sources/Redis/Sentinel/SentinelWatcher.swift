import Foundation
import Synchronization

/// Listens to a sentinel's `+switch-master` channel on a thread of its own, and reports each switch of the
/// monitored primary the moment the sentinels make it.
///
/// Why subscribe rather than wait for an error: after a failover the demoted primary keeps accepting writes until
/// a sentinel converts it to a replica (about ten seconds later, on its next `INFO` round), and everything written
/// to it in between is lost when it resyncs from the new primary. A connection that only re-resolves on
/// `READONLY` or a closed socket would keep writing there all that time.
///
/// A message is only a cue: the follower then asks every sentinel and follows the newest configuration (the one
/// subscribed to may itself lag behind the failover's leader). On every (re)subscription the sentinels are asked
/// too, so a switch made while the watcher was not subscribed (its sentinel restarted, the network dropped) is
/// seen. A sentinel that fails is replaced by the next one in the list, after a short pause.
final class SentinelWatcher: Sendable {
    private let settings: RedisSentinelSettings
    private let timeout: Duration
    private let stopped = Atomic<Bool>(false)
    private let onSwitch: @Sendable () -> Void

    /// Starts the thread.
    /// - Parameters:
    ///   - settings: the sentinels and the primary's name.
    ///   - timeout: to connect to a sentinel and for it to answer.
    ///   - onSwitch: called after each `+switch-master` for this name and after each (re)subscription, on the
    ///     watcher's thread: it asks the sentinels (all of them, not only the one subscribed to: that one may lag)
    ///     and decides whether that is a move.
    init(settings: RedisSentinelSettings, timeout: Duration, onSwitch: @escaping @Sendable () -> Void) {
        self.settings = settings
        self.timeout = timeout
        self.onSwitch = onSwitch
        let thread = Thread { [self] in
            ThreadName.set("hoopoe-sentinel")
            BrokenPipeSignal.blockOnThisThread()
            self.run()
        }
        thread.start()
    }

    /// Ends the thread within half a second.
    func stop() {
        stopped.store(true, ordering: .relaxed)
    }

    private var isStopped: Bool { stopped.load(ordering: .relaxed) }

    private func run() {
        var index = 0
        while !isStopped {
            let sentinel = settings.sentinels[index % settings.sentinels.count]
            index += 1
            watch(sentinel)
            if !isStopped { Thread.sleep(forTimeInterval: 0.2) }
        }
    }

    /// Subscribes on one sentinel and reports what it says until it fails or the watcher stops.
    private func watch(_ sentinel: RedisConfiguration.Endpoint) {
        guard let link = try? SentinelLink(sentinel, settings: settings, timeout: timeout),
            case .array = (try? link.command(RedisCommand("SUBSCRIBE", "+switch-master"))) ?? .null
        else { return }
        // Subscribed first, asked second: a switch between the two is then seen by one or the other.
        onSwitch()
        while !isStopped {
            // Half a second at most in a read, so a stop is noticed; a failed link ends this subscription.
            let message: RedisReply?
            do {
                message = try link.next(within: .milliseconds(500))
            } catch {
                return
            }
            guard let message else { continue }
            if Self.switched(message, masterName: settings.masterName) != nil { onSwitch() }
        }
    }

    /// The new primary in a `+switch-master` message for `masterName`:
    /// `["message", "+switch-master", "<name> <old ip> <old port> <new ip> <new port>"]`.
    static func switched(_ message: RedisReply, masterName: String) -> RedisConfiguration.Endpoint? {
        guard let parts = message.array, parts.count == 3, parts[0].string == "message", let text = parts[2].string else { return nil }
        let words = text.split(separator: " ")
        guard words.count == 5, words[0] == masterName, let port = Int(words[4]) else { return nil }
        return .tcp(host: String(words[3]), port: port)
    }
}
