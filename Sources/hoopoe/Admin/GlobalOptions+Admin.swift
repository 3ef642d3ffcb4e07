import ArgumentParser
import Foundation
import HoopoeCore
import Redis

extension RedisOptions {
    /// A client with short timeouts for admin commands and probes: a person or an orchestrator wants
    /// "unreachable" in seconds, not the worker's patient reconnecting.
    /// - Parameter timeout: connect timeout, reply timeout, reconnect window and (on a cluster) the wait for a
    ///   failover alike; the reply timeout only when the URL sets none (`timeout=`: an operator who asked for 10 s
    ///   against a slow Redis got 2 s, and an enqueue that had been written was reported as failed).
    ///   - boundingEveryCall: the reply timeout is `timeout` even when the URL sets one: a probe's bound (`health-check
    ///     --timeout`), which a URL's `timeout=30` made 30 s a call, past an orchestrator's own probe timeout.
    /// - Throws: ``unusableRedisURL(_:)``'s error when the URL cannot be used.
    func makeAdminClient(timeout: Duration = .seconds(2), boundingEveryCall: Bool = false) throws -> RedisClient {
        var configuration = try redisConfiguration()
        configuration.connectTimeout = timeout
        if boundingEveryCall || !configuration.commandTimeoutInURL { configuration.commandTimeout = timeout }
        configuration.reconnectWindow = timeout
        configuration.clusterFailoverWindow = timeout
        configuration.poolSize = 1
        return RedisClient(configuration: configuration)
    }
}

extension GlobalOptions {
    /// ``RedisOptions/makeAdminClient(timeout:boundingEveryCall:)``.
    func makeAdminClient(timeout: Duration = .seconds(2), boundingEveryCall: Bool = false) throws -> RedisClient {
        try redis.makeAdminClient(timeout: timeout, boundingEveryCall: boundingEveryCall)
    }

    /// Runs `body` with a ``JobQueue`` on an admin client and closes it after. An unreachable Redis (or a refused
    /// login, or no such database) becomes one line naming the server on stderr and exit code 2, the same for every
    /// command; a command the user's ACL lacks, or a durable write too few replicas confirmed, one line saying so, exit 1.
    func withJobQueue<T>(timeout: Duration = .seconds(2), _ body: (JobQueue) async throws -> T) async throws -> T {
        let redis = try makeAdminClient(timeout: timeout)
        defer { redis.close() }
        do {
            return try await body(JobQueue(redis: redis, namespace: namespace, keepsHistory: HistorySettings.keepsHistory))
        } catch let error as RedisError where error.isUnreachable {
            printError(error.operatorLine)
            throw ExitCode(2)
        } catch let error as RedisError where error.code == .permissionDenied || error.code == .notReplicated {
            // notReplicated: a durable write (REDIS_WAIT_REPLICAS) ran on the primary and too few replicas confirmed it.
            printError(error.operatorLine)
            throw ExitCode(1)
        }
    }
}

/// Prints one line to stderr, prefixed `hoopoe:` so it reads as the tool's own message.
func printError(_ message: String) {
    FileHandle.standardError.write(Data("hoopoe: \(message)\n".utf8))
}
