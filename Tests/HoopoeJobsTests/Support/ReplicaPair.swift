import Foundation
import HoopoeCore
@testable import HoopoeJobs
import Logging
import Providers
import Redis
import TestSupport
import Testing

/// A real primary and its replica for the domain jobs' durability tests (`REDIS_WAIT_REPLICAS`): the replica is frozen
/// (SIGSTOP: connected, answering nothing) so that no `WAIT` counts it. One copy for the SMS, email and registration
/// tests.
enum ReplicaPair {
    /// A primary and its replica, streaming: ready once a `WAIT` on the primary counts the replica (as
    /// RedisClientDurableTests says, the replica's `connected` comes up to a second before that).
    static func start() async throws -> (primary: RedisServer, replica: RedisServer) {
        let primary = try RedisServer(arguments: ["--repl-diskless-sync-delay", "0"])
        let replica = try RedisServer(arguments: ["--replicaof", "127.0.0.1", String(primary.port)])
        try #require(try await streaming(primary), "the replica never acknowledged a write (logs in \(primary.directory.path))")
        return (primary, replica)
    }

    /// True once a write on `primary` is acknowledged by its replica (within 15 s).
    static func streaming(_ primary: RedisServer) async throws -> Bool {
        let check = SentinelGroup.client(port: primary.port)
        defer { check.close() }
        return try await eventually(timeout: .seconds(15)) {
            let replies = try? await check.pipeline([RedisCommand("SET", "replica-pair:ready", "1"), RedisCommand("WAIT", "1", "100")])
            return replies?.last?.int == 1
        }
    }

    /// A client of `primary` asking `waitReplicas` replicas for durable writes (300 ms each).
    static func client(_ primary: RedisServer, waitReplicas: Int = 1) throws -> RedisClient {
        var configuration = try RedisConfiguration(url: "redis://127.0.0.1:\(primary.port)/0")
        configuration.waitReplicas = waitReplicas
        configuration.waitTimeout = .milliseconds(300)
        return RedisClient(configuration: configuration)
    }

    /// The domain jobs' services over `redis` (a ``client(_:waitReplicas:)`` of the primary), with the harness's
    /// settings, providers and namespace: what a worker on that primary would run the handlers with.
    static func services(_ harness: DomainHarness, on redis: RedisClient) throws -> DomainServices {
        let settings = try DomainSettings(environment: EnvironmentReader(try harness.baseEnvironment))
        return DomainJobs.services(
            settings: settings, jobs: JobQueue(redis: redis, namespace: harness.namespace), httpClient: ProviderHTTPClient(harness.httpClient),
            logger: Logger(label: "test.providers"))
    }
}
