import Redis

/// The engine's one owner of Redis: every command and script on a queue's keys (``QueueKeys``) and on the
/// keys shared by all queues (``GlobalKeys``) is built here, in an extension by concern — enqueue, fetch,
/// settle, recovery, promotion, lease, cancel, dead set, inspect.
///
/// Why one owner: whoever changes a key, a script or a command's arguments finds every use of it in one
/// folder, and every command's keys — so its Redis Cluster slot — are known where the command is built.
/// Each script is a `.lua` file in `Store/Lua/` (compiled into the binary) run by exactly one method, whose
/// doc comment states its `KEYS` and `ARGV`.
///
/// ``JobQueue`` (enqueue and the admin verbs) and ``Worker`` (fetch, run, settle) are the callers; neither
/// sends a command of its own.
package final class JobStore: Sendable {
    /// The Redis client.
    package let redis: RedisClient
    /// The key prefix (`hoopoe`).
    package let namespace: String

    /// - Parameters:
    ///   - redis: the Redis client.
    ///   - namespace: the key prefix.
    package init(redis: RedisClient, namespace: String) {
        self.redis = redis
        self.namespace = namespace
    }

    /// The keys of `queue`.
    package func keys(_ queue: String) -> QueueKeys { QueueKeys(queue: queue, namespace: namespace) }
    /// The keys shared by all queues.
    package var global: GlobalKeys { GlobalKeys(namespace: namespace) }

    /// Where errors say they came from.
    var endpoint: String { redis.endpointName }
}
