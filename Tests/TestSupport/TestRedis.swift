import Foundation
import Redis

/// The Redis server shared by the tests of one run.
///
/// `make test` starts a private `redis-server` and passes it in `REDIS_URL`. Tests share it and isolate
/// themselves by key prefix (``uniquePrefix(_:)``), never by FLUSHDB, so they can run in parallel.
/// Tests that kill or reconfigure a server start their own ``RedisServer``.
public enum TestRedis {
    /// The URL of the shared test server.
    /// - Throws: when `REDIS_URL` is not set, saying how to run the tests.
    public static func url() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["REDIS_URL"], !url.isEmpty else {
            throw TestSupportError("REDIS_URL is not set: run `make test`, which starts a private redis-server for the tests")
        }
        return url
    }

    /// A new client on the shared test server. The caller closes it.
    public static func client(poolSize: Int = 2) throws -> RedisClient {
        var configuration = try RedisConfiguration(url: url())
        configuration.poolSize = poolSize
        return RedisClient(configuration: configuration)
    }

    /// A key prefix no other test uses: `test:<name>:<random>`.
    public static func uniquePrefix(_ name: String = #function) -> String {
        let clean = name.filter { $0.isLetter || $0.isNumber }
        return "test:\(clean):\(UUID().uuidString.prefix(8))"
    }
}
