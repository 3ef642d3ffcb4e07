import HoopoeCore
import Redis

/// A private namespace on the shared test Redis with a JobQueue on it: every key a test writes is under
/// `test:<name>:<random>`, so tests run in parallel without touching each other.
public final class TestNamespace: Sendable {
    public let redis: RedisClient
    public let jobs: JobQueue
    public let namespace: String

    public init(_ name: String = #function, poolSize: Int = 2) throws {
        redis = try TestRedis.client(poolSize: poolSize)
        namespace = TestRedis.uniquePrefix(name)
        jobs = JobQueue(redis: redis, namespace: namespace)
    }

    /// The same on another server (a private `RedisServer`, for a test that pauses or stops it).
    public init(_ name: String = #function, url: String) throws {
        redis = try RedisClient(url: url)
        namespace = TestRedis.uniquePrefix(name)
        jobs = JobQueue(redis: redis, namespace: namespace)
    }

    deinit { redis.close() }
}
